// Images the tests build themselves, with tar-stream, from the host's
// busybox-static: nothing downloaded. Two layers — a busybox rootfs with a
// few files of its own, then a layer that changes one, deletes one with a
// whiteout and makes /opt opaque — written in each format nsk imports:
// a flat `docker export` tar, `docker save` (old and Docker 25+ layouts),
// and an OCI layout (directory or tar; gzip, zstd or plain layers; a nested
// index of two platforms).
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import type { TestFn } from 'ava';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import tar from 'tar-stream';
import { busyboxRootfs } from '../src/busybox.ts';
import { ImageStore } from '../src/image/index.ts';
import { hostPlatform } from '../src/image/config.ts';

export interface Entry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'character-device';
  mode?: number;
  content?: string | Buffer;
  linkname?: string;
  mtime?: Date;
}

const MTIME = new Date('2024-01-02T03:04:05Z');

/** A tar of `entries`, in order. */
export async function tarOf(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => { for await (const c of pack) chunks.push(c as Buffer); })();
  for (const e of entries) {
    const header = {
      name: e.name, type: e.type, mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644), uid: 0, gid: 0, uname: 'root', gname: 'root',
      mtime: e.mtime ?? MTIME, linkname: e.linkname, devmajor: 0, devminor: 0,
    };
    await new Promise<void>((resolve, reject) => {
      if (e.type === 'file') pack.entry(header, typeof e.content === 'string' ? Buffer.from(e.content) : (e.content ?? Buffer.alloc(0)), (err) => (err ? reject(err) : resolve()));
      else pack.entry(header, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Entries for every file under `root` (directories first, paths relative, "./" style names avoided). */
export function dirEntries(root: string, prefix = ''): Entry[] {
  const out: Entry[] = [];
  for (const name of readdirSync(join(root, prefix)).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = lstatSync(join(root, rel));
    if (st.isDirectory()) {
      out.push({ name: `${rel}/`, type: 'directory', mode: st.mode & 0o7777 });
      out.push(...dirEntries(root, rel));
    } else if (st.isSymbolicLink()) out.push({ name: rel, type: 'symlink', linkname: readlinkSync(join(root, rel)), mode: 0o777 });
    else if (st.isFile()) out.push({ name: rel, type: 'file', mode: st.mode & 0o7777, content: readFileSync(join(root, rel)) });
  }
  return out;
}

export const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
export const hex = (digest: string): string => digest.slice('sha256:'.length);

export const OS_RELEASE_1 = 'NAME="nsk test image"\nVERSION=1\n';
export const OS_RELEASE_2 = 'NAME="nsk test image"\nVERSION=2\n';

let base: string | undefined;
/**
 * A scratch directory for this test process (the caller's after hook
 * removes it). A worker process the test starts gets the test's own in
 * $NSK_IMAGE_SCRATCH, so nothing it makes outlives the test, even if killed.
 */
export function scratch(): string {
  base ??= process.env.NSK_IMAGE_SCRATCH ?? mkdtempSync(join(tmpdir(), 'nsk-image-test-'));
  return base;
}

/**
 * A scratch directory for this test file, a fresh store in it per call, and
 * an after-hook proving no fd stayed open and removing the directory.
 */
export function storeLab(test: TestFn): { base: string; fresh: () => ImageStore } {
  const base = scratch();
  let n = 0;
  const fds = () => readdirSync('/proc/self/fd').sort();
  const fdsBefore = fds();
  test.after.always('nothing is left behind: no open fds, no files', async (t) => {
    await new Promise((resolve) => setTimeout(resolve, 50)); // let closing streams finish
    t.deepEqual(fds().filter((fd) => !fdsBefore.includes(fd)).map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return fd; } }), []);
    rmSync(base, { recursive: true, force: true });
    t.false(existsSync(base));
  });
  return { base, fresh: () => new ImageStore({ root: join(base, `store-${++n}`) }) };
}

export interface TestImage {
  /** The two layer tars, bottom first. */
  layers: [Buffer, Buffer];
  diffIds: [string, string];
  config: Buffer;
  configDigest: string;
  /** The tree as a container sees it, as one tar (what `docker export` writes). */
  flat: Buffer;
}

let built: Promise<TestImage> | undefined;

/** The test image: busybox, /etc/os-release, /etc/removed and /opt/data in layer 1; layer 2 changes, removes, makes /opt opaque. */
export function testImage(): Promise<TestImage> {
  built ??= (async () => {
    const root = busyboxRootfs(join(scratch(), 'busybox'));
    const rootEntries = dirEntries(root).filter((e) => e.name !== '.nsk-rootfs');
    const own: Entry[] = [
      { name: 'etc/os-release', type: 'file', content: OS_RELEASE_1 },
      { name: 'etc/removed', type: 'file', content: 'removed by layer 2\n' },
      { name: 'opt/', type: 'directory' },
      { name: 'opt/data/', type: 'directory' },
      { name: 'opt/data/old', type: 'file', content: 'hidden by the opaque /opt of layer 2\n' },
      { name: 'bin/hello', type: 'link', linkname: 'bin/busybox' },
    ];
    const layer1 = await tarOf([...rootEntries, ...own]);
    const layer2 = await tarOf([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/os-release', type: 'file', content: OS_RELEASE_2 },
      { name: 'etc/.wh.removed', type: 'file' },
      { name: 'opt/', type: 'directory' },
      { name: 'opt/.wh..wh..opq', type: 'file' },
      { name: 'opt/new', type: 'file', content: 'new in layer 2\n' },
    ]);
    const flat = await tarOf([
      ...rootEntries,
      { name: 'etc/os-release', type: 'file', content: OS_RELEASE_2 },
      { name: 'opt/', type: 'directory' },
      { name: 'opt/new', type: 'file', content: 'new in layer 2\n' },
      { name: 'bin/hello', type: 'link', linkname: 'bin/busybox' },
    ]);
    const diffIds: [string, string] = [sha256(layer1), sha256(layer2)];
    const p = hostPlatform();
    const config = Buffer.from(JSON.stringify({
      created: '2024-01-02T03:04:05Z', architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}), os: 'linux',
      config: {
        Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello'], Entrypoint: ['/bin/sh', '-c'], Cmd: ['cat /etc/os-release'],
        WorkingDir: '/opt', User: '0:0', ExposedPorts: { '8080/tcp': {}, 53: {} },
      },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: [{ created_by: 'busybox' }, { created_by: 'layer 2' }],
    }));
    return { layers: [layer1, layer2], diffIds, config, configDigest: sha256(config), flat };
  })();
  return built;
}

/** A different image sharing layer 1: its own top layer. */
export async function siblingImage(): Promise<TestImage> {
  const t = await testImage();
  const layer2 = await tarOf([{ name: 'etc/', type: 'directory' }, { name: 'etc/sibling', type: 'file', content: 'sibling\n' }]);
  const diffIds: [string, string] = [t.diffIds[0], sha256(layer2)];
  const config = Buffer.from(JSON.stringify({ ...JSON.parse(t.config.toString()), rootfs: { type: 'layers', diff_ids: diffIds }, created: '2024-02-02T00:00:00Z' }));
  return { ...t, layers: [t.layers[0], layer2], diffIds, config, configDigest: sha256(config) };
}

/** `docker export`: the container's whole tree in one tar (gzip'd: `docker export | gzip`). */
export function writeDockerExport(path: string, img: TestImage, compression: 'none' | 'gzip' = 'none'): string {
  writeFileSync(path, compression === 'gzip' ? gzipSync(img.flat) : img.flat);
  return path;
}

/**
 * `docker save`. 'legacy' (before Docker 25): <hex>.json, <id>/layer.tar,
 * repositories. 'oci' (Docker 25+): blobs/sha256/*, index.json, oci-layout,
 * and manifest.json naming blobs.
 */
export async function writeDockerSave(path: string, imgs: readonly TestImage[], tags: readonly string[][], layout: 'legacy' | 'oci'): Promise<string> {
  const entries: Entry[] = [];
  const manifest: unknown[] = [];
  const seen = new Set<string>();
  const file = (name: string, content: Buffer | string) => { if (!seen.has(name)) { seen.add(name); entries.push({ name, type: 'file', content }); } };
  if (layout === 'oci') entries.push({ name: 'blobs/', type: 'directory' }, { name: 'blobs/sha256/', type: 'directory' });
  const index: unknown[] = [];
  imgs.forEach((img, i) => {
    if (layout === 'legacy') {
      // Layer ids are chained hashes in real archives; any unique hex does here.
      const ids = img.diffIds.map((d, j) => createHash('sha256').update(`${img.configDigest}${j}${d}`).digest('hex'));
      ids.forEach((id, j) => {
        if (!seen.has(`${id}/`)) entries.push({ name: `${id}/`, type: 'directory' });
        file(`${id}/VERSION`, '1.0');
        file(`${id}/json`, JSON.stringify({ id, ...(j > 0 ? { parent: ids[j - 1] } : {}) }));
        file(`${id}/layer.tar`, img.layers[j]!);
      });
      file(`${hex(img.configDigest)}.json`, img.config);
      manifest.push({ Config: `${hex(img.configDigest)}.json`, RepoTags: tags[i], Layers: ids.map((id) => `${id}/layer.tar`) });
    } else {
      const blob = (b: Buffer) => { file(`blobs/sha256/${hex(sha256(b))}`, b); return `blobs/sha256/${hex(sha256(b))}`; };
      const m = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: img.configDigest, size: img.config.length },
        layers: img.layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(l), size: l.length })),
      }));
      blob(m);
      manifest.push({ Config: blob(img.config), RepoTags: tags[i], Layers: img.layers.map(blob) });
      for (const t of tags[i] ?? []) index.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(m), size: m.length, annotations: { 'io.containerd.image.name': `docker.io/library/${t}`, 'org.opencontainers.image.ref.name': t.split(':')[1] } });
    }
  });
  if (layout === 'legacy') {
    const repos: Record<string, Record<string, string>> = {};
    for (const t of tags.flat()) { const [r, tag] = t.split(':'); (repos[r!] ??= {})[tag!] = 'x'; }
    file('repositories', JSON.stringify(repos));
  } else {
    file('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    file('index.json', JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: index }));
  }
  file('manifest.json', JSON.stringify(manifest));
  writeFileSync(path, await tarOf(entries));
  return path;
}

export interface OciOptions {
  compression: 'gzip' | 'zstd' | 'none';
  /** A tar of the layout instead of a directory. */
  tar?: boolean;
  /** index.json → an index of two platforms (another one first) → the manifest. */
  nested?: boolean;
  /** org.opencontainers.image.ref.name. */
  refName?: string;
}

const LAYER_TYPE = { gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd', none: 'application/vnd.oci.image.layer.v1.tar' };

export function compress(b: Buffer, c: OciOptions['compression']): Buffer {
  return c === 'gzip' ? gzipSync(b) : c === 'zstd' ? zstdCompressSync(b) : b;
}

/** The blobs and index.json of an OCI layout of `img` (name → bytes). */
export function ociFiles(img: TestImage, o: OciOptions): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const blob = (b: Buffer) => { files.set(`blobs/sha256/${hex(sha256(b))}`, b); return { digest: sha256(b), size: b.length }; };
  const layers = img.layers.map((l) => ({ mediaType: LAYER_TYPE[o.compression], ...blob(compress(l, o.compression)) }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(img.config) }, layers,
  }));
  let top = { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...blob(manifest) };
  if (o.nested) {
    // Another platform listed first, whose manifest is not even present: only the host's is read.
    const p = hostPlatform();
    const other = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(Buffer.from('absent')), size: 6, platform: { os: 'linux', architecture: p.architecture === 's390x' ? 'ppc64le' : 's390x' } };
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [other, { ...top, platform: p }] }));
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', ...blob(index) };
  }
  files.set('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  files.set('index.json', Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ ...top, ...(o.refName ? { annotations: { 'org.opencontainers.image.ref.name': o.refName } } : {}) }],
  })));
  return files;
}

/** Writes `files` as a directory at `path`, or as a tar when `asTar`. */
export async function writeLayout(path: string, files: Map<string, Buffer>, asTar = false): Promise<string> {
  if (asTar) {
    const names = [...files.keys()].sort();
    writeFileSync(path, await tarOf([{ name: 'blobs/', type: 'directory' }, { name: 'blobs/sha256/', type: 'directory' }, ...names.map((name) => ({ name, type: 'file' as const, content: files.get(name)! }))]));
  } else {
    for (const [name, b] of files) {
      mkdirSync(join(path, name, '..'), { recursive: true });
      writeFileSync(join(path, name), b);
    }
  }
  return path;
}

export async function writeOciLayout(path: string, img: TestImage, o: OciOptions): Promise<string> {
  return writeLayout(path, ociFiles(img, o), o.tar);
}

/** What a store holds (content, not its empty directories): to show nothing was added, or all was removed. */
export function storeContents(root: string): { layers: string[]; blobs: string[]; images: string[]; names: string[]; tmp: string[]; containers: string[] } {
  const ls = (...p: string[]) => { try { return readdirSync(join(root, ...p)).sort(); } catch { return []; } };
  let names: string[] = [];
  try { names = Object.keys(JSON.parse(readFileSync(join(root, 'names.json'), 'utf8'))).sort(); } catch { /* none yet */ }
  return { layers: ls('layers', 'sha256'), blobs: ls('blobs', 'sha256'), images: ls('images'), names, tmp: ls('tmp'), containers: ls('containers') };
}

export const EMPTY_STORE = { layers: [], blobs: [], images: [], names: [], tmp: [], containers: [] };
