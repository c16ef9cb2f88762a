// An OCI image layout (image-spec image-layout.md): `oci-layout`
// ({"imageLayoutVersion":"1.0.0"}), `index.json` (descriptors of manifests
// or of further indexes), and every blob at blobs/<alg>/<hex>. Each
// manifest and index read is checked against its descriptor's digest; an
// index with several platforms gives the host's.
import { digestMismatch, ImageFormatError } from './errors.ts';
import { digestHex, sha256 } from './digest.ts';
import { hostPlatform } from './config.ts';
import { INDEX_TYPES, MANIFEST_TYPES, isLayerType } from './media-types.ts';
import type { Archive } from './archive.ts';
import type { ImportItem } from './import-item.ts';
import type { LayerSource } from './types.ts';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

/** image-spec annotations.md: the tag (or whole reference) of an index.json entry. */
export const REF_NAME = 'org.opencontainers.image.ref.name';
/** containerd (and `docker save` since 25) put the full name here. */
export const CONTAINERD_NAME = 'io.containerd.image.name';

export function blobPath(a: Archive, digest: string, what: string): string {
  const hex = digestHex(digest);
  if (hex === null) throw new ImageFormatError(a.path, `${what} names ${JSON.stringify(digest)}, not a sha256 digest`);
  return `blobs/sha256/${hex}`;
}

function descriptor(a: Archive, d: unknown, what: string): Descriptor {
  const o = d as Partial<Descriptor> | null;
  if (typeof o !== 'object' || o === null || typeof o.digest !== 'string') throw new ImageFormatError(a.path, `${what} is not a descriptor ({ mediaType, digest, size })`);
  blobPath(a, o.digest, what);
  return { mediaType: typeof o.mediaType === 'string' ? o.mediaType : '', digest: o.digest, size: typeof o.size === 'number' ? o.size : undefined, annotations: o.annotations, platform: o.platform };
}

/** A small blob (manifest, index, config) read whole and checked against its descriptor. */
export function readBlob(a: Archive, d: Descriptor, what: string): Buffer {
  const path = blobPath(a, d.digest, what);
  if (!a.has(path)) throw new ImageFormatError(a.path, `${what} ${d.digest} is missing (no ${path})`);
  const b = a.read(path);
  const actual = sha256(b);
  if (actual !== d.digest) throw digestMismatch(what, d.digest, actual, `${a.path}:${path}`);
  if (d.size !== undefined && b.length !== d.size) throw digestMismatch(`${what} size`, `${d.size} bytes`, `${b.length} bytes`, `${a.path}:${path}`);
  return b;
}

export function parseJson(a: Archive, bytes: Buffer, what: string): Record<string, unknown> {
  try {
    const j: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof j === 'object' && j !== null && !Array.isArray(j)) return j as Record<string, unknown>;
  } catch { /* reported below */ }
  throw new ImageFormatError(a.path, `${what} is not a JSON object`);
}

/** A layer blob in the archive, opened when the store unpacks it. */
export function layerSource(a: Archive, d: Descriptor, what: string): LayerSource {
  if (!isLayerType(d.mediaType)) throw new ImageFormatError(a.path, `${what} has media type ${JSON.stringify(d.mediaType)}: not a tar, tar+gzip or tar+zstd layer (foreign and encrypted layers are not supported)`);
  const path = blobPath(a, d.digest, what);
  if (!a.has(path)) throw new ImageFormatError(a.path, `${what} ${d.digest} is missing (no ${path})`);
  return { digest: d.digest, mediaType: d.mediaType, size: d.size ?? a.size(path), open: async () => a.open(path) };
}

/** image-spec image-index.md: platform matching; a variant counts only when both name one. */
function platformMatches(p: Descriptor['platform'], want: ReturnType<typeof hostPlatform>): boolean {
  if (!p) return false;
  if (p.os !== want.os || p.architecture !== want.architecture) return false;
  return !p.variant || !want.variant || p.variant === want.variant;
}

/** The image a manifest describes. */
function fromManifest(a: Archive, d: Descriptor, m: Record<string, unknown>): Omit<ImportItem, 'names' | 'tags'> {
  const what = `manifest ${d.digest}`;
  const config = descriptor(a, m.config, `${what} config`);
  if (!Array.isArray(m.layers)) throw new ImageFormatError(a.path, `${what} has no layers list`);
  const layers = m.layers.map((l, i) => layerSource(a, descriptor(a, l, `${what} layer ${i}`), `${what} layer ${i}`));
  return { config: readBlob(a, config, 'config'), configDigest: config.digest, layers };
}

/**
 * The images of an index, nested indexes resolved to the host's platform.
 * `depth` guards against an index that names itself.
 */
function resolve(a: Archive, d: Descriptor, platform: ReturnType<typeof hostPlatform>, depth: number): Omit<ImportItem, 'names' | 'tags'> {
  if (depth > 8) throw new ImageFormatError(a.path, `indexes nested deeper than 8 at ${d.digest}`);
  const isIndex = INDEX_TYPES.includes(d.mediaType);
  const bytes = readBlob(a, d, isIndex ? 'index' : 'manifest');
  const j = parseJson(a, bytes, `blob ${d.digest}`);
  const type = typeof j.mediaType === 'string' ? j.mediaType : d.mediaType;
  if (INDEX_TYPES.includes(type) || (type === '' && Array.isArray(j.manifests))) {
    const entries = (Array.isArray(j.manifests) ? j.manifests : []).map((e, i) => descriptor(a, e, `index ${d.digest} entry ${i}`));
    const chosen = entries.find((e) => platformMatches(e.platform, platform));
    if (!chosen) {
      const have = entries.map((e) => [e.platform?.os, e.platform?.architecture, e.platform?.variant].filter(Boolean).join('/')).join(', ');
      throw new ImageFormatError(a.path, `index ${d.digest} has no manifest for ${platform.os}/${platform.architecture} (it has: ${have || 'none'})`);
    }
    return resolve(a, chosen, platform, depth + 1);
  }
  if (MANIFEST_TYPES.includes(type) || (type === '' && typeof j.config === 'object')) return fromManifest(a, d, j);
  throw new ImageFormatError(a.path, `blob ${d.digest} has media type ${JSON.stringify(type)}: neither an image manifest nor an index`);
}

/** True when `a` looks like an OCI layout. */
export function isOciLayout(a: Archive): boolean {
  return a.has('oci-layout') && a.has('index.json');
}

/** The images an OCI layout holds, one per index.json entry (duplicates merged by the caller). */
export function readOciLayout(a: Archive, platform = hostPlatform()): ImportItem[] {
  const layout = parseJson(a, a.read('oci-layout'), 'oci-layout');
  if (typeof layout.imageLayoutVersion !== 'string') throw new ImageFormatError(a.path, 'oci-layout has no imageLayoutVersion');
  const index = parseJson(a, a.read('index.json'), 'index.json');
  if (!Array.isArray(index.manifests) || index.manifests.length === 0) throw new ImageFormatError(a.path, 'index.json lists no manifests');
  return index.manifests.map((e, i) => {
    const d = descriptor(a, e, `index.json entry ${i}`);
    const item = resolve(a, d, platform, 0);
    const full = d.annotations?.[CONTAINERD_NAME];
    const ref = d.annotations?.[REF_NAME];
    // annotations.md: ref.name is a tag ("1.0") or, by some tools, a whole reference.
    const names = full ? [full] : ref && /[/:@]/.test(ref) ? [ref] : [];
    const tags = !full && ref && !/[/:@]/.test(ref) ? [ref] : [];
    return { ...item, names, tags };
  });
}
