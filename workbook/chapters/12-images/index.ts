// Chapter 12: images. An image starts as "a tarball of the files a program
// needs" (docker export | tar -x); real images are a stack of tarballs
// (layers) and a JSON config, each named by its sha256. The chapter makes
// both with GNU tar, imports the layered one into a store, and runs shells
// on an overlay of its layers: writes land in each container's upper dir,
// the layers are shared and never change.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImageStore, busyboxRootfs, hostPlatform, type Image } from '@nsk/rootfs';
import { rootfs } from '@nsk/mount';
import { defineChapter } from '../../src/chapter.ts';
import { run, scratchDir } from '../../src/lab.ts';

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d: string) => d.slice(7);

export const OS_RELEASE_1 = 'NAME=nsk-demo\nVERSION=1\n';
export const OS_RELEASE_2 = 'NAME=nsk-demo\nVERSION=2\n';

/** `tar -c` of a directory's contents, owned by root whoever runs it. */
function tarDir(dir: string, out: string): Buffer {
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-cf', out, '.']);
  return readFileSync(out);
}

export interface Built {
  /** The busybox tree everything starts from. */
  root: string;
  /** What `docker export` gives: the whole tree in one tar. */
  flatTar: string;
  /** The OCI image layout (a directory) of the two-layer image. */
  layout: string;
  /** Each layer: its tar, its diff id (sha256 of the tar), its blob digest (sha256 of the gzip). */
  layers: { tar: string; diffId: string; digest: string; entries: number }[];
  configDigest: string;
  /** The layout's files with their sizes, as `find` lists them. */
  tree: string[];
  manifest: string;
}

/**
 * Makes the chapter's images in `dir`: a busybox tree with /etc/os-release
 * and /etc/motd; a flat tar of it; and a second layer that changes
 * os-release, deletes motd (a whiteout, `.wh.motd`) and adds a web page —
 * written as an OCI image layout by hand: gzip'd layers, a config, a
 * manifest and index.json, every blob at blobs/sha256/<its digest>.
 */
export function buildImage(dir: string): Built {
  const root = busyboxRootfs(join(dir, 'busybox'));
  writeFileSync(join(root, 'etc/os-release'), OS_RELEASE_1);
  writeFileSync(join(root, 'etc/motd'), 'welcome to layer 1\n');
  const flatTar = join(dir, 'busybox-export.tar');
  const layer1 = tarDir(root, join(dir, 'layer1.tar'));
  execFileSync('cp', [join(dir, 'layer1.tar'), flatTar]);
  // Layer 2, as a directory of changes: a new os-release, a whiteout for
  // motd (an empty file named .wh.motd: image-spec layer.md), a new file.
  const changes = join(dir, 'layer2');
  mkdirSync(join(changes, 'etc'), { recursive: true });
  mkdirSync(join(changes, 'var/www'), { recursive: true });
  writeFileSync(join(changes, 'etc/os-release'), OS_RELEASE_2);
  writeFileSync(join(changes, 'etc/.wh.motd'), '');
  writeFileSync(join(changes, 'var/www/index.html'), '<h1>hello from layer 2</h1>\n');
  const layer2 = tarDir(changes, join(dir, 'layer2.tar'));

  const layout = join(dir, 'oci');
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  const blob = (b: Buffer) => { writeFileSync(join(layout, 'blobs/sha256', hex(sha256(b))), b); return { digest: sha256(b), size: b.length }; };
  const layers = [layer1, layer2].map((t, i) => {
    const gz = gzipSync(t);
    return { tar: join(dir, `layer${i + 1}.tar`), diffId: sha256(t), digest: blob(gz).digest, size: gz.length, entries: execFileSync('tar', ['-tf', join(dir, `layer${i + 1}.tar`)], { encoding: 'utf8' }).trim().split('\n').length };
  });
  const p = hostPlatform();
  const config = Buffer.from(JSON.stringify({
    created: new Date().toISOString(), architecture: p.architecture, os: p.os,
    config: { Env: ['PATH=/bin:/sbin:/usr/bin:/usr/sbin'], Cmd: ['/bin/sh'], WorkingDir: '/var/www', ExposedPorts: { '80/tcp': {} } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  }));
  const configDesc = { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(config) };
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDesc,
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
  }, null, 2);
  const m = blob(Buffer.from(manifest));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': '1.0' } }],
  }));
  const tree = execFileSync('find', ['.', '-type', 'f', '-printf', '%p  %s bytes\n'], { cwd: layout, encoding: 'utf8' }).trim().split('\n').sort();
  return { root, flatTar, layout, layers: layers.map(({ tar, diffId, digest, entries }) => ({ tar, diffId, digest, entries })), configDigest: configDesc.digest, tree, manifest };
}

/** Runs `sh -c script` with `features` in new pid/ipc/uts namespaces; throws unless it exits 0. */
async function shell(script: string, features: Parameters<typeof rootfs>[0]): Promise<string> {
  const r = await run({ argv: ['/bin/sh', '-c', script], env: ['PATH=/bin:/sbin:/usr/bin:/usr/sbin'], namespaces: ['pid', 'ipc', 'uts'], features: [rootfs(features)] });
  if (r.status !== 0) throw new Error(`sh -c ${script}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export interface FlatRun {
  /** The first lines of `tar -tvf`. */
  listing: string[];
  entries: number;
  /** What a shell rooted in the extracted tree printed. */
  output: string;
}

/** "An image is a tarball": `tar -x` the flat tar into a directory and run a shell with it as `/`. */
export async function runFlat(b: Built, dir: string): Promise<FlatRun> {
  const listing = execFileSync('tar', ['-tvf', b.flatTar], { encoding: 'utf8' }).trim().split('\n');
  const target = join(dir, 'extracted');
  mkdirSync(target);
  execFileSync('tar', ['-C', target, '-xf', b.flatTar]);
  const output = await shell('cat /etc/os-release; cat /etc/motd; echo $(ls /)', { path: target });
  return { listing: listing.filter((l) => / \.\/(bin\/busybox|etc\/os-release|etc\/motd)$/.test(l)), entries: listing.length, output };
}

export interface LayerView {
  diffId: string;
  /** Its directory in the store (an overlay lowerdir). */
  dir: string;
  /** etc/ in the layer, `ls -l` style: a whiteout shows as `c 0,0`. */
  etc: string[];
}

/** `ls -l`'s first letter and, for devices, major,minor. */
function describe(path: string, name: string): string {
  const st = lstatSync(path);
  if (st.isCharacterDevice()) return `c ${Math.floor(st.rdev / 256)},${st.rdev % 256}  ${name}  (an overlayfs whiteout)`;
  return `${st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : '-'} ${String(st.size).padStart(5)}  ${name}`;
}

/** Imports the OCI layout into a store rooted at `storeRoot`; the image and what each layer directory holds. */
export async function importLayout(b: Built, storeRoot: string): Promise<{ store: ImageStore; image: Image; layers: LayerView[] }> {
  const store = new ImageStore({ root: storeRoot });
  const [image] = await store.import(b.layout, { name: 'demo' });
  const layers = image!.layers.map((diffId) => {
    const dir = join(store.root, 'layers/sha256', hex(diffId), 'diff');
    const etc = readdirSync(join(dir, 'etc')).sort().filter((n) => ['os-release', 'motd', 'passwd'].includes(n)).map((n) => describe(join(dir, 'etc', n), `etc/${n}`));
    return { diffId, dir, etc };
  });
  return { store, image: image!, layers };
}

export interface ContainerView {
  id: string;
  lower: string[];
  upper: string;
  /** What its shell printed. */
  output: string;
  /** The inode of /bin/busybox as the container sees it. */
  busyboxInode: number;
  /** What its upper dir holds afterwards, `ls -l` style. */
  upperFiles: string[];
}

export interface Containers {
  a: ContainerView;
  b: ContainerView;
  /** The inode of bin/busybox in the bottom layer's directory. */
  layerInode: number;
  /** The layer directories' contents before and after (`find` with sizes and mtimes). */
  layersUnchanged: boolean;
  /** Layer directories in the store after importing the same image a second time. */
  layerDirs: number;
  layerInodesAfterReimport: boolean;
}

/**
 * Two containers of the image at once: each writes /root/note (with its
 * name), appends to /etc/os-release and deletes /var/www/index.html. Their
 * writes land in their own upper dirs; the layers stay as they were.
 */
export async function runContainers(b: Built, store: ImageStore, image: Image): Promise<Containers> {
  const layerDirs = image.layers.map((d) => join(store.root, 'layers/sha256', hex(d)));
  const snap = () => layerDirs.map((d) => execFileSync('find', [d, '-printf', '%P %y %s %T@ %i\n'], { encoding: 'utf8' })).join('');
  const before = snap();
  const one = async (id: string): Promise<ContainerView> => {
    const c = store.prepareRootfs(image.id, id);
    try {
      const output = await shell(`cat /etc/os-release; ls /etc/motd 2>&1; echo ${id} > /root/note; echo EDITED=${id} >> /etc/os-release; rm /var/www/index.html; cat /root/note; tail -n1 /etc/os-release; stat -c %i /bin/busybox; sleep 0.2`,
        { path: c.target, overlay: { lower: c.lower, upper: c.upper, work: c.work } });
      const lines = output.trim().split('\n');
      const upperFiles = execFileSync('find', ['.', '-mindepth', '2', '-printf', '%y %p\n'], { cwd: c.upper, encoding: 'utf8' }).trim().split('\n').sort()
        .map((l) => (l.startsWith('c ') ? `${l}  (whiteout)` : l));
      return { id, lower: c.lower, upper: c.upper, output: lines.slice(0, -1).join('\n'), busyboxInode: Number(lines.at(-1)), upperFiles };
    } finally {
      c.cleanup();
    }
  };
  const [a, bView] = await Promise.all([one('web-1'), one('web-2')]);
  const layerInode = statSync(join(layerDirs[0]!, 'diff/bin/busybox')).ino;
  const inodes = layerDirs.map((d) => statSync(d).ino);
  await store.import(b.layout, { name: 'demo-again' });
  return {
    a: a!, b: bView!, layerInode, layersUnchanged: snap() === before,
    layerDirs: readdirSync(join(store.root, 'layers/sha256')).length,
    layerInodesAfterReimport: layerDirs.every((d, i) => statSync(d).ino === inodes[i]),
  };
}

const short = (d: string) => `${d.slice(0, 19)}…`;

export default defineChapter({
  n: 12,
  slug: 'images',
  title: 'Images: tarballs, layers and overlay',
  titleKo: '이미지: 타르볼, 레이어, 오버레이',
  async run(show) {
    const dir = scratchDir('nsk-workbook-images-');
    try {
      const b = buildImage(dir.path);
      show.step('An image is a tarball');
      show.say('`docker export` writes a container\'s whole tree as one tar. Ours is a busybox tree, made with GNU tar; extract it anywhere and it can be a root filesystem.');
      const flat = await runFlat(b, dir.path);
      show.code(`tar -tvf busybox-export.tar   # ${flat.entries} entries, among them\n${flat.listing.join('\n')}`);
      show.sideBySide({ host: `tar -C extracted -xf busybox-export.tar\n${b.flatTar}`, container: `/ = extracted/\n${flat.output}` });

      show.step('Layers: an OCI image layout, made by hand');
      show.say('A real image is a stack of tars. Layer 2 holds only changes: a new etc/os-release, an empty file etc/.wh.motd that says "delete motd" (a whiteout), and a new var/www/index.html. Each blob — gzip\'d layer, config, manifest — is a file named by the sha256 of its bytes; index.json points at the manifest.');
      show.code(b.tree.join('\n'));
      show.code(b.manifest);
      show.say(b.layers.map((l, i) => `layer ${i + 1}: ${l.entries} entries; blob ${short(l.digest)} (gzip), diff id ${short(l.diffId)} (sha256 of the tar itself)`).join('\n'));

      show.step('Import it into a store; look at its layers');
      const { store, image, layers } = await importLayout(b, join(dir.path, 'store'));
      show.say(`store.import() checked every blob against its digest and every unpacked tar against the config's diff ids, then unpacked each layer once into layers/sha256/<diff id>/diff. Image ${short(image.id)}, names ${image.names.join(', ')}, ${image.layers.length} layers, ${image.size} bytes, Cmd ${JSON.stringify(image.config.cmd)}, WorkingDir ${image.config.workingDir}, ports ${image.config.exposedPorts.join(', ')}.`);
      for (const [i, l] of layers.entries()) show.code(`layer ${i + 1}: ${l.dir.slice(store.root.length + 1)}\n${l.etc.join('\n')}`);

      show.step('Run shells in it: an overlay of the layers, writes to an upper dir');
      const c = await runContainers(b, store, image);
      show.say('prepareRootfs() gives each container an empty upper and work dir under containers/<id>/; @nsk/mount mounts the overlay in the container\'s own mount namespace:');
      show.code('mount -t overlay overlay -o lowerdir=<layer 2>/diff:<layer 1>/diff,upperdir=containers/web-1/upper,workdir=containers/web-1/work containers/web-1/merged');
      show.say('web-1 and web-2 run at once. Each reads os-release (VERSION=2 from layer 2), finds motd gone, writes /root/note, appends to os-release and deletes the web page. Its changes are files in its own upper dir: a new file, a copied-up os-release, a whiteout for the deleted page.');
      for (const v of [c.a, c.b]) show.sideBySide({ host: `${v.id}: containers/${v.id}/upper/\n${v.upperFiles.join('\n')}`, container: `${v.id}\n${v.output}` });
      show.say(`The layer directories are unchanged: ${c.layersUnchanged}. Both containers read /bin/busybox from the same layer directory — inode ${c.a.busyboxInode} in web-1, ${c.b.busyboxInode} in web-2, ${c.layerInode} in layer 1 — so it is on disk once. Importing the image again added no layer (${c.layerDirs} layer directories in the store, their inodes unchanged: ${c.layerInodesAfterReimport}).`);
    } finally {
      dir.dispose();
    }
  },
});
