// The content-addressed image store. On disk, under `root`:
//
//   lock                          flock(2)ed around every change of the files below
//   blobs/sha256/<hex>            config blobs (the image id is their digest)
//   layers/sha256/<hex>/diff/     a layer unpacked once, by diff id, shared by every image that has it
//   layers/sha256/<hex>/layer.json
//   images/<hex>.json             one per image: config, layers (diff ids, bottom first), size
//   names.json                    "busybox:latest" → image id
//   containers/<id>/              upper/, work/, merged/ and image.json (the layers it uses) per container
//   tmp/<random>/, tmp/<random>.lock   work in progress, held by a lock while its importer lives
//
// Layers are unpacked into tmp/ and renamed into layers/ only after both
// digests matched: rename(2) is atomic, so a layer directory is either
// absent or complete. Commits are short and synchronous under the lock;
// the long part (reading and unpacking) runs without it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ValidationError } from '@nsk/syscall';
import { ContainerExistsError, digestMismatch, ImageFormatError, ImageNotFoundError } from './errors.ts';
import { digestHex, sha256 } from './digest.ts';
import { parseImageConfig } from './config.ts';
import { candidates, checkName, repositoryOf } from './names.ts';
import { holdLock, isLocked, withFileLock } from './lock.ts';
import { unpackLayer, type Unpacked } from './layer-unpack.ts';
import { defaultStoreRoot } from './store-root.ts';
import { openArchive } from './archive.ts';
import { readDockerSave, saveManifest } from './docker-save.ts';
import { isOciLayout, readOciLayout } from './oci-layout.ts';
import { readFlat } from './flat.ts';
import type { ImportItem } from './import-item.ts';
import type { AddImageInput, Image, ImageConfig, LayerSource, PreparedRootfs, Progress, StoreOptions } from './types.ts';

/** images/<hex>.json: an Image without its names (names.json holds those). */
type StoredImage = Omit<Image, 'names'>;

/** layers/sha256/<hex>/layer.json. */
interface LayerRecord { diffId: string; digest: string; mediaType: string; size: number; entries: number; skipped: { path: string; reason: string }[]; unpacked: string }

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Written beside and renamed over: readers never see half a file. */
function writeJson(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

function list(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

export class ImageStore {
  readonly root: string;

  constructor(opts: StoreOptions = {}) {
    if (typeof opts !== 'object' || opts === null) throw new ValidationError('store', 'give { root? }');
    const root = opts.root ?? defaultStoreRoot();
    if (typeof root !== 'string' || root === '' || root.includes('\0')) throw new ValidationError('store.root', `must be a path: ${String(root)}`);
    // overlayfs.rst: lowerdir/upperdir/workdir are comma- and colon-separated mount options.
    if (/[,:\\]/.test(resolve(root))) throw new ValidationError('store.root', `overlayfs options cannot hold ',', ':' or '\\': ${root}`);
    this.root = resolve(root);
  }

  #path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** The directory holding layer `diffId` (its tree is `diff/` inside). */
  layerDir(diffId: string): string {
    const hex = digestHex(diffId);
    if (hex === null) throw new ValidationError('diffId', `not a sha256 digest: ${diffId}`);
    return this.#path('layers', 'sha256', hex);
  }

  #ensureDirs(): void {
    // The layers hold images' setuid programs and devices: only root (or the
    // rootless owner) may reach them, as /var/lib/docker is 0710.
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    for (const d of [['blobs', 'sha256'], ['layers', 'sha256'], ['images'], ['containers'], ['tmp']]) mkdirSync(this.#path(...d), { recursive: true, mode: 0o700 });
  }

  #locked<T>(fn: () => T): T {
    this.#ensureDirs();
    return withFileLock(this.#path('lock'), fn);
  }

  /** A directory under tmp/ that gc leaves alone while this process holds its lock. */
  #tempDir(kind: string): { path: string; release(): void } {
    return this.#locked(() => {
      const name = `${kind}-${process.pid}-${randomBytes(6).toString('hex')}`;
      const lock = holdLock(this.#path('tmp', `${name}.lock`));
      const path = this.#path('tmp', name);
      mkdirSync(path, { mode: 0o700 });
      return {
        path,
        release: () => {
          rmSync(path, { recursive: true, force: true });
          rmSync(`${path}.lock`, { force: true });
          lock.release();
        },
      };
    });
  }

  #names(): Record<string, string> {
    const p = this.#path('names.json');
    return existsSync(p) ? readJson<Record<string, string>>(p) : {};
  }

  #stored(id: string): StoredImage | null {
    const p = this.#path('images', `${digestHex(id)}.json`);
    return existsSync(p) ? readJson<StoredImage>(p) : null;
  }

  #withNames(s: StoredImage, names: Record<string, string>): Image {
    return { id: s.id, names: Object.keys(names).filter((n) => names[n] === s.id).sort(), config: s.config, layers: s.layers, created: s.created, size: s.size };
  }

  #hasLayer(diffId: string): boolean {
    return existsSync(join(this.layerDir(diffId), 'layer.json'));
  }

  /**
   * Ingests an image whose config and layer blobs come from anywhere (an
   * archive, a registry). Verifies every digest; unpacks each layer once
   * (shared by diff id: a layer already stored is not even opened). On any
   * error nothing is added to the store.
   */
  async addImage(input: AddImageInput, opts: { onProgress?: (p: Progress) => void } = {}): Promise<Image> {
    const { names, config, layers, configDigest } = checkInput(input);
    const id = sha256(config);
    if (configDigest !== undefined && configDigest !== id) throw digestMismatch('config', configDigest, id, 'the image config');
    const parsed = parseImageConfig(config, `config ${id}`);
    if (parsed.diffIds.length !== layers.length) throw new ImageFormatError(`config ${id}`, `rootfs.diff_ids lists ${parsed.diffIds.length} layers, but ${layers.length} layer blobs were given`);
    const progress = opts.onProgress ?? (() => {});
    const work = this.#tempDir('add');
    try {
      const made = new Map<string, LayerRecord>();
      // A layer another process's gc removed between our look and our
      // commit is unpacked again (at most a few rounds).
      for (let round = 0; ; round++) {
        for (const [i, source] of layers.entries()) {
          const diffId = parsed.diffIds[i]!;
          if (made.has(diffId) || this.#hasLayer(diffId)) {
            progress({ phase: 'exists', done: source.size ?? 0, total: source.size, item: source.digest });
            continue;
          }
          made.set(diffId, await this.#unpack(work.path, source, diffId, progress));
        }
        const missing = this.#commit(work.path, id, config, parsed, made, names);
        if (missing.length === 0) break;
        if (round >= 3) throw new ImageFormatError(this.root, `layers ${missing.join(', ')} keep disappearing while ${id} is added (a gc running in a loop?)`);
      }
    } finally {
      work.release();
    }
    progress({ phase: 'commit', done: 1, total: 1, item: id });
    return this.get(id);
  }

  async #unpack(work: string, source: LayerSource, diffId: string, progress: (p: Progress) => void): Promise<LayerRecord> {
    const dir = join(work, digestHex(diffId)!);
    mkdirSync(join(dir, 'diff'), { recursive: true, mode: 0o755 });
    progress({ phase: 'layer', done: 0, total: source.size, item: source.digest });
    const u: Unpacked = await unpackLayer(source, join(dir, 'diff'), diffId, (done) => progress({ phase: 'layer', done, total: source.size, item: source.digest }));
    const record: LayerRecord = { diffId, digest: u.digest, mediaType: source.mediaType, size: u.bytes, entries: u.entries, skipped: u.skipped, unpacked: new Date().toISOString() };
    writeJson(join(dir, 'layer.json'), record);
    return record;
  }

  /** Moves new layers into place and records the image; returns the layers that vanished meanwhile (nothing committed then). */
  #commit(work: string, id: string, config: Uint8Array, parsed: ReturnType<typeof parseImageConfig>, made: Map<string, LayerRecord>, names: string[]): string[] {
    return this.#locked(() => {
      const missing = parsed.diffIds.filter((d) => !made.has(d) && !this.#hasLayer(d));
      if (missing.length > 0) return missing;
      for (const diffId of made.keys()) {
        // Another import may have renamed the same layer in first: keep
        // theirs (containers may already use it), ours goes with tmp/.
        if (!this.#hasLayer(diffId)) renameSync(join(work, digestHex(diffId)!), this.layerDir(diffId));
      }
      const blob = this.#path('blobs', 'sha256', digestHex(id)!);
      if (!existsSync(blob)) {
        writeFileSync(`${blob}.tmp-${process.pid}`, config, { mode: 0o600 });
        renameSync(`${blob}.tmp-${process.pid}`, blob);
      }
      const size = [...new Set(parsed.diffIds)].reduce((n, d) => n + readJson<LayerRecord>(join(this.layerDir(d), 'layer.json')).size, 0);
      const stored: StoredImage = { id, config: parsed.config, layers: parsed.diffIds, created: parsed.created, size };
      writeJson(this.#path('images', `${digestHex(id)}.json`), stored);
      if (names.length > 0) {
        // A name moves to the newest image that claims it (docker tag, docker load).
        const all = this.#names();
        for (const n of names) all[n] = id;
        writeJson(this.#path('names.json'), all);
      }
      return [];
    });
  }

  /** docker export tar, docker save tar, OCI layout (dir or tar); sniffed. */
  async import(path: string, opts: { name?: string; onProgress?: (p: Progress) => void } = {}): Promise<Image[]> {
    if (typeof path !== 'string' || !existsSync(path)) throw new ValidationError('path', `${String(path)} does not exist`);
    const name = opts.name === undefined ? undefined : checkName('name', opts.name);
    opts.onProgress?.({ phase: 'index', done: 0, item: path });
    const a = openArchive(path);
    let items: ImportItem[];
    const flat = async (): Promise<ImportItem[]> => {
      if (name === undefined) throw new ValidationError('name', `${path} is a flat filesystem tarball (docker export): it carries no name, so give one`);
      return [await readFlat(path, name)];
    };
    if (a === null) items = await flat();
    else {
      const save = saveManifest(a);
      if (save) items = readDockerSave(a, save);
      else if (isOciLayout(a)) items = readOciLayout(a);
      else if (a.kind === 'directory') throw new ImageFormatError(path, 'is neither an OCI image layout (oci-layout, index.json) nor docker save output (manifest.json)');
      else items = await flat();
    }
    items = merge(items);
    if (name !== undefined && items.length > 1) throw new ValidationError('name', `${path} holds ${items.length} images, each with its own names: import it without a name`);
    const out: Image[] = [];
    for (const item of items) {
      const names = new Set<string>();
      for (const n of item.names) {
        try { names.add(checkName('name', n)); } catch { throw new ImageFormatError(path, `names an image ${JSON.stringify(n)}, which is not an image name`); }
      }
      if (name !== undefined) {
        // "app" with an archive tagged "1.0" is app:1.0; "app:2" is app:2; "app" alone app:latest.
        if (item.tags.length > 0 && opts.name === repositoryOf(opts.name!)) for (const t of item.tags) names.add(checkName('name', `${opts.name}:${t}`));
        else names.add(name);
      }
      out.push(await this.addImage({ ...item, names: [...names] }, { onProgress: opts.onProgress }));
    }
    return out;
  }

  list(): Image[] {
    const names = this.#names();
    return list(this.#path('images'))
      .filter((f) => /^[0-9a-f]{64}\.json$/.test(f))
      .map((f) => this.#withNames(readJson<StoredImage>(this.#path('images', f)), names))
      .sort((x, y) => y.created.localeCompare(x.created) || x.id.localeCompare(y.id));
  }

  /** The image id `ref` stands for, and the name it matched (if by name). */
  #resolve(ref: string): { id: string; name?: string } {
    if (typeof ref !== 'string' || ref === '') throw new ValidationError('ref', `give an image name or id, got ${JSON.stringify(ref)}`);
    const names = this.#names();
    for (const c of candidates(ref)) {
      if (names[c] && this.#stored(names[c])) return { id: names[c], name: c };
    }
    const m = /^(?:sha256:)?([0-9a-f]{4,64})$/.exec(ref);
    if (m) {
      const ids = list(this.#path('images')).filter((f) => f.endsWith('.json') && f.startsWith(m[1]!)).map((f) => `sha256:${f.slice(0, 64)}`);
      if (ids.length === 1) return { id: ids[0]! };
      if (ids.length > 1) throw new ValidationError('ref', `${ref} is the start of ${ids.length} image ids: give more of it`);
    }
    throw new ImageNotFoundError(ref, this.root);
  }

  /** By name, "name:tag" (":latest" implied), or id / id prefix (≥ 4 hex digits). */
  get(ref: string): Image {
    const { id } = this.#resolve(ref);
    const s = this.#stored(id);
    if (!s) throw new ImageNotFoundError(ref, this.root);
    return this.#withNames(s, this.#names());
  }

  /** Untags a name (deleting the image when it was its last), or deletes an image by id with all its names. Layers stay until gc(). */
  remove(ref: string): void {
    this.#locked(() => {
      const { id, name } = this.#resolve(ref);
      const names = this.#names();
      if (name !== undefined) delete names[name];
      else for (const n of Object.keys(names)) if (names[n] === id) delete names[n];
      writeJson(this.#path('names.json'), names);
      if (!Object.values(names).includes(id)) rmSync(this.#path('images', `${digestHex(id)}.json`), { force: true });
    });
  }

  /**
   * Removes the layers and blobs no image and no container references, and
   * what dead importers left in tmp/. A layer is first renamed out of
   * layers/, so a crash midway never leaves half a layer there.
   */
  gc(): { removedLayers: string[]; removedBlobs: string[] } {
    return this.#locked(() => {
      const images = this.list();
      const layers = new Set(images.flatMap((i) => i.layers));
      for (const c of list(this.#path('containers'))) {
        const p = this.#path('containers', c, 'image.json');
        if (existsSync(p)) for (const l of readJson<{ layers: string[] }>(p).layers) layers.add(l);
      }
      const blobs = new Set(images.map((i) => digestHex(i.id)!));
      const trash = this.#path('tmp', `gc-${process.pid}-${randomBytes(6).toString('hex')}`);
      mkdirSync(trash);
      const removedLayers: string[] = [];
      for (const hex of list(this.#path('layers', 'sha256'))) {
        if (layers.has(`sha256:${hex}`)) continue;
        renameSync(this.#path('layers', 'sha256', hex), join(trash, hex));
        removedLayers.push(`sha256:${hex}`);
      }
      const removedBlobs: string[] = [];
      for (const hex of list(this.#path('blobs', 'sha256'))) {
        if (blobs.has(hex)) continue;
        rmSync(this.#path('blobs', 'sha256', hex), { force: true });
        removedBlobs.push(`sha256:${hex}`);
      }
      rmSync(trash, { recursive: true, force: true });
      // Work of importers that died: their lock file is no longer locked.
      for (const f of list(this.#path('tmp'))) {
        const base = f.endsWith('.lock') ? f.slice(0, -5) : f;
        if (!isLocked(this.#path('tmp', `${base}.lock`))) rmSync(this.#path('tmp', f), { recursive: true, force: true });
      }
      // Names of images gone (an images/ file removed by hand).
      const names = this.#names();
      const kept = Object.fromEntries(Object.entries(names).filter(([, id]) => images.some((i) => i.id === id)));
      if (Object.keys(kept).length !== Object.keys(names).length) writeJson(this.#path('names.json'), kept);
      return { removedLayers, removedBlobs };
    });
  }

  /**
   * The directories an overlay for a container of `ref` needs: the image's
   * layer trees (topmost first) and a fresh upper/work under
   * containers/<containerId>/. gc() keeps the layers while that directory
   * exists; cleanup() removes it.
   */
  prepareRootfs(ref: string, containerId: string): PreparedRootfs & { config: ImageConfig } {
    if (typeof containerId !== 'string' || !CONTAINER_ID.test(containerId)) throw new ValidationError('containerId', `${JSON.stringify(containerId)}: letters, digits, '_', '.', '-' (at most 128, not starting with a punctuation mark)`);
    const image = this.get(ref);
    const dir = this.#path('containers', containerId);
    this.#locked(() => {
      const gone = image.layers.filter((d) => !this.#hasLayer(d));
      if (gone.length > 0) throw new ImageFormatError(this.root, `image ${image.id} needs layers ${gone.join(', ')}, which are missing from the store: import it again`);
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ContainerExistsError(containerId, dir);
        throw e;
      }
      writeJson(join(dir, 'image.json'), { image: image.id, layers: image.layers });
      for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d), { mode: 0o755 });
    });
    // overlayfs.rst: lowerdir lists the topmost layer first. A layer listed
    // twice adds nothing below its upper occurrence, so only that one stays.
    const lower = [...new Set([...image.layers].reverse())].map((d) => join(this.layerDir(d), 'diff'));
    if (lower.length === 0) {
      mkdirSync(join(dir, 'empty'), { mode: 0o755 });
      lower.push(join(dir, 'empty')); // an image of no layers: overlayfs needs one lower dir
    }
    return {
      lower, upper: join(dir, 'upper'), work: join(dir, 'work'), target: join(dir, 'merged'), config: image.config,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
}

function checkInput(input: AddImageInput): Required<Omit<AddImageInput, 'configDigest'>> & { configDigest?: string } {
  if (typeof input !== 'object' || input === null) throw new ValidationError('image', 'give { names, config, layers }');
  if (!Array.isArray(input.names)) throw new ValidationError('names', 'must be a list of image names');
  const names = input.names.map((n, i) => checkName(`names[${i}]`, n));
  if (!(input.config instanceof Uint8Array)) throw new ValidationError('config', 'must be the config blob’s bytes (a Uint8Array)');
  if (input.configDigest !== undefined && digestHex(input.configDigest) === null) throw new ValidationError('configDigest', `not a sha256 digest: ${String(input.configDigest)}`);
  if (!Array.isArray(input.layers)) throw new ValidationError('layers', 'must be a list of layer sources');
  input.layers.forEach((l, i) => {
    if (typeof l !== 'object' || l === null || typeof l.open !== 'function') throw new ValidationError(`layers[${i}]`, 'must be { digest, mediaType, size?, open() }');
    if (digestHex(l.digest) === null) throw new ValidationError(`layers[${i}].digest`, `not a sha256 digest: ${String(l.digest)}`);
    if (typeof l.mediaType !== 'string') throw new ValidationError(`layers[${i}].mediaType`, 'must be a string');
    if (l.size !== undefined && !(Number.isSafeInteger(l.size) && l.size >= 0)) throw new ValidationError(`layers[${i}].size`, `must be a byte count: ${String(l.size)}`);
  });
  return { names, config: input.config, layers: input.layers, configDigest: input.configDigest };
}

/** One item per image: an archive listing one image under several names (or platforms' indexes) gives it once. */
function merge(items: ImportItem[]): ImportItem[] {
  const by = new Map<string, ImportItem>();
  for (const it of items) {
    const key = sha256(it.config);
    const seen = by.get(key);
    if (seen) by.set(key, { ...seen, names: [...seen.names, ...it.names], tags: [...seen.tags, ...it.tags] });
    else by.set(key, it);
  }
  return [...by.values()];
}

