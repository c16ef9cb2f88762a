// Reading manifests and indexes into checked shapes. OCI image-spec:
// manifest.md, image-index.md, descriptor.md; Docker's schema 2 and
// manifest list have the same fields.
import { isDigest } from './digest.ts';
import { UnsupportedManifestError, type Platform } from './errors.ts';
import { CONFIG_TYPES, DOCKER_SCHEMA1, INDEX_TYPES, LAYER_TYPES, MANIFEST_TYPES } from './media-types.ts';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  urls?: string[];
}

export interface ImageManifest { kind: 'manifest'; mediaType: string; config: Descriptor; layers: Descriptor[] }
export interface ImageIndex { kind: 'index'; mediaType: string; manifests: Descriptor[] }

/**
 * Parses manifest bytes. The media type is the JSON's `mediaType` field when
 * present, else the response's Content-Type. Throws UnsupportedManifestError
 * for schema 1, for artifacts whose config is not an image config, and for
 * anything malformed.
 */
export function parseManifest(bytes: Uint8Array, contentType: string, reference: string): ImageManifest | ImageIndex {
  if (DOCKER_SCHEMA1.includes(contentType)) throw new UnsupportedManifestError(reference, contentType, 'Docker schema 1 manifests are not supported (push the image again with a current client)');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new UnsupportedManifestError(reference, contentType, `manifest is not JSON: ${(cause as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UnsupportedManifestError(reference, contentType, 'manifest is not a JSON object');
  const mediaType = typeof json.mediaType === 'string' ? json.mediaType : contentType;
  if (json.schemaVersion !== 2) {
    throw new UnsupportedManifestError(reference, mediaType, `schemaVersion ${JSON.stringify(json.schemaVersion)} is not supported (2 is)`);
  }
  if (INDEX_TYPES.includes(mediaType) || (Array.isArray(json.manifests) && !MANIFEST_TYPES.includes(mediaType))) {
    if (!Array.isArray(json.manifests)) throw new UnsupportedManifestError(reference, mediaType, 'index has no "manifests" list');
    return { kind: 'index', mediaType, manifests: json.manifests.map((d, i) => descriptor(d, `manifests[${i}]`, reference, mediaType)) };
  }
  if (!json.config || !Array.isArray(json.layers)) throw new UnsupportedManifestError(reference, mediaType, 'manifest has no config and layers');
  const config = descriptor(json.config, 'config', reference, mediaType);
  if (!CONFIG_TYPES.includes(config.mediaType)) {
    throw new UnsupportedManifestError(reference, config.mediaType, 'not a container image: its config blob is not an image config');
  }
  const layers = json.layers.map((d, i) => descriptor(d, `layers[${i}]`, reference, mediaType));
  for (const l of layers) {
    // A filesystem layer is some tar (OCI image-spec, layer.md); anything else is an artifact's payload.
    if (!LAYER_TYPES.includes(l.mediaType) && !/(^|[./+])tar([./+]|$)/.test(l.mediaType)) {
      throw new UnsupportedManifestError(reference, l.mediaType, `layer ${l.digest} is not a filesystem layer`);
    }
  }
  return { kind: 'manifest', mediaType, config, layers };
}

function descriptor(raw: unknown, where: string, reference: string, mediaType: string): Descriptor {
  const bad = (why: string) => new UnsupportedManifestError(reference, mediaType, `${where}: ${why}`);
  if (typeof raw !== 'object' || raw === null) throw bad('not an object');
  const d = raw as Record<string, unknown>;
  if (typeof d.mediaType !== 'string') throw bad('no mediaType');
  if (!isDigest(d.digest)) throw bad(`digest ${JSON.stringify(d.digest)} is not a sha256 or sha512 digest`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw bad(`bad size ${JSON.stringify(d.size)}`);
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  const p = d.platform as Record<string, unknown> | undefined;
  if (p && typeof p === 'object' && typeof p.os === 'string' && typeof p.architecture === 'string') {
    out.platform = { os: p.os, architecture: p.architecture };
    if (typeof p.variant === 'string' && p.variant) out.platform.variant = p.variant;
  }
  if (Array.isArray(d.urls)) out.urls = d.urls.filter((u): u is string => typeof u === 'string');
  return out;
}
