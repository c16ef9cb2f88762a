// Image references: [registry[:port]/]path[:tag][@digest], following the
// grammar of distribution's reference package (the one `docker pull` uses),
// with Docker Hub's defaults filled in.
import { InvalidReferenceError } from './errors.ts';

export interface Reference { registry: string; repository: string; tag?: string; digest?: string }

/** Where Docker Hub's registry API lives; "docker.io" is its name, not its host. */
export const DOCKER_HUB = 'registry-1.docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', DOCKER_HUB]);

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
export const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** The digest algorithms we can verify, and the length of their hex encoding (OCI image-spec, descriptor.md "Registered algorithms"). */
export const DIGEST_HEX: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };
const NAME_MAX = 255;

/**
 * Splits `ref` into registry, repository, tag and digest.
 * `busybox` → registry-1.docker.io, library/busybox, tag latest;
 * `localhost:5000/a/b@sha256:…` → localhost:5000, a/b, digest.
 * A first component is a registry only if it has a `.` or a `:`, or is `localhost`
 * (as `docker pull` decides). Throws InvalidReferenceError.
 */
export function parseReference(ref: string): Reference {
  if (typeof ref !== 'string' || ref === '') throw new InvalidReferenceError(String(ref), 'empty');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    checkDigest(ref, digest);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(ref, `bad tag ${JSON.stringify(tag)} (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  let registry = 'docker.io';
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first) {
      registry = first;
      rest = rest.slice(slash + 1);
      if (!DOMAIN.test(registry)) throw new InvalidReferenceError(ref, `bad registry host ${JSON.stringify(registry)}`);
    }
  }
  if (rest === '') throw new InvalidReferenceError(ref, 'no repository name');
  if (rest.toLowerCase() !== rest) throw new InvalidReferenceError(ref, 'repository name must be lowercase');
  for (const part of rest.split('/')) {
    if (!PATH_COMPONENT.test(part)) {
      throw new InvalidReferenceError(ref, part === '' ? 'empty path component' : `bad path component ${JSON.stringify(part)} (lowercase letters and digits, separated by . _ __ or -)`);
    }
  }
  const hub = HUB_ALIASES.has(registry);
  // Docker Hub keeps official images under library/ ("busybox" is "library/busybox").
  const repository = hub && !rest.includes('/') ? `library/${rest}` : rest;
  if (`${hub ? 'docker.io' : registry}/${repository}`.length > NAME_MAX) throw new InvalidReferenceError(ref, `name longer than ${NAME_MAX} characters`);
  const out: Reference = { registry: hub ? DOCKER_HUB : registry, repository };
  if (tag === undefined && digest === undefined) tag = 'latest';
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

function checkDigest(ref: string, digest: string): void {
  if (!DIGEST.test(digest)) throw new InvalidReferenceError(ref, `bad digest ${JSON.stringify(digest)} (algorithm:hex)`);
  const [algorithm, hex] = digest.split(':') as [string, string];
  const len = DIGEST_HEX[algorithm];
  if (len === undefined) throw new InvalidReferenceError(ref, `unsupported digest algorithm ${algorithm} (sha256, sha512)`);
  if (!/^[a-f0-9]+$/.test(hex) || hex.length !== len) throw new InvalidReferenceError(ref, `${algorithm} digest must be ${len} lowercase hex digits`);
}

/** The name an image is stored under, as `docker images` shows it: "busybox", "user/app", "localhost:5000/x". */
export function familiarName(r: Reference): string {
  if (r.registry !== DOCKER_HUB) return `${r.registry}/${r.repository}`;
  return r.repository.startsWith('library/') ? r.repository.slice('library/'.length) : r.repository;
}

/** `ref` written back in full, for messages: "localhost:5000/x:1", "registry-1.docker.io/library/busybox@sha256:…". */
export function formatReference(r: Reference): string {
  return `${r.registry}/${r.repository}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}
