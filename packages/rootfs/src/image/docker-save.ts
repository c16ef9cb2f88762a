// `docker save` archives (docker's image/tarexport). manifest.json lists
// each image: its config file, its RepoTags, and its layer tars bottom
// first. Before Docker 25 the config is "<hex>.json" and each layer
// "<id>/layer.tar" (an uncompressed tar, so its digest is its diff id);
// since 25 the archive is also an OCI layout and both are
// "blobs/sha256/<hex>", whose names are their digests.
import { digestMismatch, ImageFormatError } from './errors.ts';
import { digestHex, sha256 } from './digest.ts';
import { parseImageConfig } from './config.ts';
import { DOCKER_LAYER_TAR, isLayerType } from './media-types.ts';
import { isOciLayout, parseJson, readBlob, type Descriptor } from './oci-layout.ts';
import type { Archive } from './archive.ts';
import type { ImportItem } from './import-item.ts';

interface SaveEntry { Config: string; RepoTags?: string[] | null; Layers: string[] }

/** The digest a member's name states: "blobs/sha256/<hex>" or "<hex>.json"; null for "<id>/layer.tar". */
function digestInName(name: string): string | null {
  const m = /(?:^|\/)(?:sha256\/)?([0-9a-f]{64})(?:\.json)?$/.exec(name);
  return m ? `sha256:${m[1]}` : null;
}

/** manifest.json, when it is docker save's: a list of { Config, Layers }. */
export function saveManifest(a: Archive): SaveEntry[] | null {
  if (!a.has('manifest.json')) return null;
  let j: unknown;
  try { j = JSON.parse(a.read('manifest.json').toString('utf8')); } catch { return null; }
  if (!Array.isArray(j) || j.length === 0) return null;
  return j.every((e) => typeof e === 'object' && e !== null && typeof e.Config === 'string' && Array.isArray(e.Layers)) ? (j as SaveEntry[]) : null;
}

/**
 * Layer descriptors (media type, size) by digest, from the OCI manifests a
 * Docker 25+ archive also carries: its layers may be stored compressed.
 */
function ociLayerTypes(a: Archive): Map<string, Descriptor> {
  const out = new Map<string, Descriptor>();
  if (!isOciLayout(a)) return out;
  const walk = (d: Descriptor, depth: number): void => {
    if (depth > 8) return;
    const j = parseJson(a, readBlob(a, d, 'manifest'), `blob ${d.digest}`);
    for (const e of Array.isArray(j.manifests) ? j.manifests : []) if (digestHex(e?.digest) && a.has(`blobs/sha256/${digestHex(e.digest)}`)) walk(e as Descriptor, depth + 1);
    for (const l of Array.isArray(j.layers) ? j.layers : []) if (digestHex(l?.digest)) out.set(l.digest, l as Descriptor);
  };
  const index = parseJson(a, a.read('index.json'), 'index.json');
  for (const e of Array.isArray(index.manifests) ? index.manifests : []) if (digestHex(e?.digest)) walk(e as Descriptor, 0);
  return out;
}

export function readDockerSave(a: Archive, entries: SaveEntry[]): ImportItem[] {
  const types = ociLayerTypes(a);
  return entries.map((e, i) => {
    const what = `manifest.json entry ${i}`;
    if (!a.has(e.Config)) throw new ImageFormatError(a.path, `${what}: config ${e.Config} is missing`);
    const config = a.read(e.Config);
    const named = digestInName(e.Config);
    if (named && sha256(config) !== named) throw digestMismatch('config', named, sha256(config), `${a.path}:${e.Config}`);
    const { diffIds } = parseImageConfig(config, `${a.path}:${e.Config}`);
    if (diffIds.length !== e.Layers.length) throw new ImageFormatError(a.path, `${what}: ${e.Layers.length} layers, but its config lists ${diffIds.length} diff ids`);
    const layers = e.Layers.map((name, j) => {
      if (typeof name !== 'string' || !a.has(name)) throw new ImageFormatError(a.path, `${what}: layer ${String(name)} is missing`);
      // An old layer.tar is plain: the bytes hash to the diff id.
      const digest = digestInName(name) ?? diffIds[j]!;
      const d = types.get(digest);
      const mediaType = d && isLayerType(d.mediaType) ? d.mediaType : DOCKER_LAYER_TAR;
      return { digest, mediaType, size: a.size(name), open: async () => a.open(name) };
    });
    const names = (e.RepoTags ?? []).filter((t): t is string => typeof t === 'string');
    return { names, tags: [], config, configDigest: named ?? undefined, layers };
  });
}
