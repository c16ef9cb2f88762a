// Image names as people type them. A reference is [registry/]repository
// [:tag][@digest]; a tag follows the last ':' only when it comes after the
// last '/' ("localhost:5000/x" has a port, not a tag). No tag means ":latest".
import { ValidationError } from '@nsk/syscall';

// distribution/reference's grammar, part by part.
const DOMAIN = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

function isName(name: string): boolean {
  const at = name.indexOf('@');
  if (at >= 0 && !DIGEST.test(name.slice(at + 1))) return false;
  const n = at >= 0 ? name.slice(0, at) : name;
  const slash = n.lastIndexOf('/');
  const colon = n.lastIndexOf(':');
  if (colon > slash && !TAG.test(n.slice(colon + 1))) return false;
  const parts = (colon > slash ? n.slice(0, colon) : n).split('/');
  // The first part is a registry when it looks like a host: a dot, a port, or localhost.
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) {
    if (!DOMAIN.test(parts.shift()!)) return false;
  }
  return parts.every((p) => COMPONENT.test(p));
}

/** `name` with ":latest" added when it has neither tag nor digest. */
export function withTag(name: string): string {
  if (name.includes('@')) return name;
  const slash = name.lastIndexOf('/');
  return name.lastIndexOf(':') > slash ? name : `${name}:latest`;
}

/** The repository part of a name ("localhost:5000/x:1" → "localhost:5000/x"). */
export function repositoryOf(name: string): string {
  const n = name.split('@')[0]!;
  const slash = n.lastIndexOf('/');
  const colon = n.lastIndexOf(':');
  return colon > slash ? n.slice(0, colon) : n;
}

/** A checked, tagged image name; ValidationError for anything a registry would refuse. */
export function checkName(field: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 255 || !isName(name)) {
    throw new ValidationError(field, `${JSON.stringify(name)} is not an image name (lower-case repository[:tag], e.g. busybox:1.36 or localhost:5000/app:1)`);
  }
  return withTag(name);
}

/** The names `ref` may stand for: as given, tagged, and without Docker Hub's implied prefixes. */
export function candidates(ref: string): string[] {
  const out = [ref, withTag(ref)];
  for (const prefix of ['docker.io/library/', 'docker.io/', 'index.docker.io/library/', 'registry-1.docker.io/library/']) {
    if (ref.startsWith(prefix)) out.push(ref.slice(prefix.length), withTag(ref.slice(prefix.length)));
  }
  return [...new Set(out)];
}
