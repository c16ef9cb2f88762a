// `docker pull` in steps (distribution-spec, "Pull"): check the API, meet
// the auth challenge, fetch the manifest (resolving a multi-platform index
// to one platform), fetch and verify the config blob, then hand the layers to
// the store, which fetches, verifies and unpacks those it does not have.
import { Readable } from 'node:stream';
import { ValidationError } from '@nsk/syscall';
import type { Image, ImageStore, LayerSource, Progress } from '../image/index.ts';
import { RegistryClient, type FetchedManifest } from './client.ts';
import { digestOf, isDigest, verifyDigest } from './digest.ts';
import { DigestMismatchError, NoMatchingPlatformError, UnsupportedManifestError, type Platform } from './errors.ts';
import { parseManifest, type Descriptor, type ImageManifest } from './manifest.ts';
import { hostPlatform, selectPlatform } from './platform.ts';
import { familiarName, formatReference, parseReference } from './reference.ts';

export interface PullOptions {
  store: ImageStore;
  /** Talk plain http:// (a registry on loopback); https:// otherwise. */
  insecure?: boolean;
  /** Which manifest of a multi-platform image to pull; default: this host's (linux, process.arch as GOARCH). */
  platform?: { os: string; architecture: string; variant?: string };
  /** Sent to the token server (Bearer) or to the registry (Basic) when it asks. */
  auth?: { username: string; password: string };
  onProgress?: (p: Progress) => void;
}

/** A config blob is small JSON; refuse to buffer more than this. */
const CONFIG_MAX = 32 << 20;
/** An index may point at another index; we follow at most this many. */
const NESTING_MAX = 4;

/**
 * Pulls `ref` ("busybox", "localhost:5000/app:1", "x@sha256:…") into
 * `opts.store` and returns the stored image. Throws InvalidReferenceError or
 * ValidationError before any request; ManifestUnknownError,
 * UnauthorizedError, NoMatchingPlatformError, DigestMismatchError,
 * UnsupportedManifestError or RegistryError after.
 */
export async function pull(ref: string, opts: PullOptions): Promise<Image> {
  const reference = parseReference(ref);
  checkOptions(opts);
  const display = formatReference(reference);
  const report = opts.onProgress ?? (() => {});
  const client = new RegistryClient({
    registry: reference.registry, repository: reference.repository,
    ...(opts.insecure ? { insecure: true } : {}), ...(opts.auth ? { auth: opts.auth } : {}),
  });
  const wanted: Platform = opts.platform ? { ...opts.platform } : hostPlatform();
  report({ phase: 'resolve', done: 0, total: 1, item: display });

  await client.ping();
  const top = reference.digest ?? reference.tag!;
  let fetched = await client.manifest(top);
  verifyManifest(fetched, display, reference.digest);
  let manifest = parseManifest(fetched.bytes, fetched.contentType, display);
  for (let depth = 0; manifest.kind === 'index'; depth++) {
    if (depth >= NESTING_MAX) throw new UnsupportedManifestError(display, manifest.mediaType, `indexes nested more than ${NESTING_MAX} deep`);
    const chosen = selectPlatform(manifest.manifests, wanted, display);
    fetched = await client.manifest(chosen.digest);
    verifyManifest(fetched, `${display} (${chosen.digest})`, chosen.digest, chosen.size);
    manifest = parseManifest(fetched.bytes, fetched.contentType, display);
  }

  const config = await fetchConfig(client, manifest, display);
  checkConfig(config, manifest, display, opts.platform ? wanted : undefined);
  report({ phase: 'resolve', done: 1, total: 1, item: display });

  const layers = manifest.layers.map((d) => layerSource(client, d));
  const name = familiarName(reference);
  const names = reference.tag !== undefined ? [`${name}:${reference.tag}`] : reference.digest!.startsWith('sha256:') ? [`${name}@${reference.digest}`] : [];
  return opts.store.addImage(
    { names, config, layers, configDigest: manifest.config.digest },
    opts.onProgress ? { onProgress: opts.onProgress } : undefined,
  );
}

function checkOptions(opts: PullOptions): void {
  if (!opts || typeof opts !== 'object') throw new ValidationError('opts', 'pull needs options with a store');
  if (!opts.store || typeof opts.store.addImage !== 'function') throw new ValidationError('store', 'an ImageStore to pull into is required');
  const p = opts.platform;
  if (p !== undefined) {
    if (typeof p !== 'object' || p === null || typeof p.os !== 'string' || !p.os || typeof p.architecture !== 'string' || !p.architecture) {
      throw new ValidationError('platform', 'needs os and architecture strings ({ os: "linux", architecture: "arm64" })');
    }
    if (p.variant !== undefined && typeof p.variant !== 'string') throw new ValidationError('platform.variant', 'must be a string ("v7", "v8")');
  }
  const a = opts.auth;
  if (a !== undefined && (typeof a !== 'object' || a === null || typeof a.username !== 'string' || typeof a.password !== 'string')) {
    throw new ValidationError('auth', 'needs username and password strings');
  }
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') throw new ValidationError('onProgress', 'must be a function');
}

/**
 * A manifest pulled by digest must hash to it (that is the point of pulling
 * by digest); one pulled by tag must hash to the Docker-Content-Digest the
 * registry announced, when it announced one we can check.
 */
function verifyManifest(m: FetchedManifest, what: string, digest: string | undefined, size?: number): void {
  if (digest !== undefined) {
    verifyDigest(`manifest ${what}`, m.bytes, digest);
  } else if (m.headerDigest !== undefined && isDigest(m.headerDigest)) {
    verifyDigest(`manifest ${what} (Docker-Content-Digest)`, m.bytes, m.headerDigest);
  }
  if (size !== undefined && m.bytes.length !== size) {
    throw new DigestMismatchError(`manifest ${what}: ${m.bytes.length} bytes, its descriptor says ${size}`, digest ?? '', digestOf(m.bytes));
  }
}

async function fetchConfig(client: RegistryClient, manifest: ImageManifest, display: string): Promise<Buffer> {
  const d = manifest.config;
  if (d.size > CONFIG_MAX) throw new UnsupportedManifestError(display, d.mediaType, `config blob of ${d.size} bytes is larger than ${CONFIG_MAX}`);
  const bytes = await client.blobBytes(d.digest, d.size);
  verifyDigest(`config of ${display}`, bytes, d.digest);
  return bytes;
}

/** The config must describe as many layers as the manifest has (image-spec config.md, rootfs.diff_ids), and the platform asked for. */
function checkConfig(bytes: Buffer, manifest: ImageManifest, display: string, wanted: Platform | undefined): void {
  let json: { rootfs?: { diff_ids?: unknown }; os?: unknown; architecture?: unknown; variant?: unknown };
  try {
    json = JSON.parse(bytes.toString('utf8')) as typeof json;
  } catch (cause) {
    throw new UnsupportedManifestError(display, manifest.config.mediaType, `config is not JSON: ${(cause as Error).message}`);
  }
  const ids = json.rootfs?.diff_ids;
  if (!Array.isArray(ids) || ids.length !== manifest.layers.length) {
    throw new UnsupportedManifestError(display, manifest.config.mediaType, `config lists ${Array.isArray(ids) ? ids.length : 'no'} diff_ids for ${manifest.layers.length} layers`);
  }
  // A single-platform manifest has no platform list to choose from; if a platform was asked for explicitly, the config must be it.
  if (wanted && (json.os !== wanted.os || json.architecture !== wanted.architecture || (wanted.variant && json.variant !== wanted.variant))) {
    const offered: Platform = { os: String(json.os), architecture: String(json.architecture) };
    if (typeof json.variant === 'string' && json.variant) offered.variant = json.variant;
    throw new NoMatchingPlatformError(display, wanted, [offered]);
  }
}

/**
 * A layer the store opens only if it lacks it: the blob GET happens then.
 * The store reports the bytes as it reads them (phase 'layer').
 */
function layerSource(client: RegistryClient, d: Descriptor): LayerSource {
  return {
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
    async open() {
      const res = await client.blob(d.digest);
      return res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from([]);
    },
  };
}
