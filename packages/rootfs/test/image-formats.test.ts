// ImageStore.import of each format nsk reads — a flat `docker export` tar
// (plain, gzip), `docker save` (before and since Docker 25), an OCI layout
// (directory and tar; gzip, zstd and plain layers; a nested index) — all
// built here from busybox-static. Each gives the same image: the same
// layers (by diff id), unpacked once with overlayfs whiteouts, and the
// config's defaults.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '@nsk/syscall';
import { ImageFormatError, ImageNotFoundError, ImageStore, type Image, type LayerSource } from '../src/index.ts';
import {
  EMPTY_STORE, storeLab, OS_RELEASE_1, OS_RELEASE_2, hex, scratch, sha256, storeContents, testImage,
  writeDockerExport, writeDockerSave, writeOciLayout, type OciOptions,
} from './image-fixtures.ts';

const { base, fresh } = storeLab(test);

/** The image every format must give: two layers by diff id, the config's defaults. */
async function expectTestImage(t: import('ava').ExecutionContext, store: ImageStore, image: Image): Promise<void> {
  const img = await testImage();
  t.is(image.id, img.configDigest);
  t.deepEqual(image.layers, img.diffIds);
  t.deepEqual(image.config, {
    env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello'], entrypoint: ['/bin/sh', '-c'], cmd: ['cat /etc/os-release'],
    workingDir: '/opt', user: '0:0', exposedPorts: ['53/tcp', '8080/tcp'], architecture: image.config.architecture, os: 'linux',
  });
  t.is(image.created, '2024-01-02T03:04:05Z');
  // Bytes unpacked: busybox and a few small files.
  t.true(image.size > statSync('/bin/busybox').size && image.size < statSync('/bin/busybox').size + 4096, String(image.size));
  const [bottom, top] = image.layers.map((d) => join(store.root, 'layers/sha256', hex(d), 'diff'));
  t.is(readFileSync(join(bottom!, 'etc/os-release'), 'utf8'), OS_RELEASE_1);
  t.is(lstatSync(join(bottom!, 'bin/sh')).isSymbolicLink(), true);
  t.is(statSync(join(bottom!, 'bin/hello')).ino, statSync(join(bottom!, 'bin/busybox')).ino, 'a hard link stays one inode');
  // overlayfs.rst: a whiteout is a 0:0 character device; an opaque directory has trusted.overlay.opaque=y.
  const wh = lstatSync(join(top!, 'etc/removed'));
  t.true(wh.isCharacterDevice() && wh.rdev === 0, 'etc/.wh.removed became a whiteout');
  t.false(existsSync(join(top!, 'etc/.wh.removed')));
  t.is(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', join(top!, 'opt')], { encoding: 'utf8' }), 'y');
  t.deepEqual(readdirSync(join(top!, 'opt')), ['new']);
  t.deepEqual(storeContents(store.root).tmp, [], 'no work left in tmp/');
}

test('a flat docker export tar (plain and gzip) becomes a one-layer image with a synthesized config', async (t) => {
  const img = await testImage();
  for (const compression of ['none', 'gzip'] as const) {
    const store = fresh();
    const path = writeDockerExport(join(base, `export-${compression}.tar`), img, compression);
    const [image, ...more] = await store.import(path, { name: 'exported' });
    t.deepEqual(more, []);
    t.deepEqual(image!.names, ['exported:latest']);
    t.deepEqual(image!.layers, [sha256(img.flat)]);
    t.deepEqual(image!.config.cmd, ['/bin/sh']);
    t.deepEqual(image!.config.entrypoint, []);
    t.regex(image!.config.env[0]!, /^PATH=/);
    t.is(image!.config.os, 'linux');
    const diff = join(store.root, 'layers/sha256', hex(sha256(img.flat)), 'diff');
    t.is(readFileSync(join(diff, 'etc/os-release'), 'utf8'), OS_RELEASE_2);
    t.false(existsSync(join(diff, 'etc/removed')));
    // The layer record keeps the blob's digest (the gzip'd file's) beside the diff id.
    const record = JSON.parse(readFileSync(join(diff, '../layer.json'), 'utf8'));
    t.is(record.digest, sha256(readFileSync(path)));
    t.is(compression === 'none', record.digest === record.diffId);
  }
  // No name: refused before anything is stored.
  const store = fresh();
  await t.throwsAsync(store.import(join(base, 'export-none.tar')), { instanceOf: ValidationError, message: /flat filesystem tarball.*give one/ });
  t.deepEqual(storeContents(store.root), EMPTY_STORE);
});

for (const layout of ['legacy', 'oci'] as const) {
  test(`docker save (${layout === 'legacy' ? 'before Docker 25' : 'Docker 25+, blobs/sha256'}) keeps its RepoTags`, async (t) => {
    const img = await testImage();
    const store = fresh();
    const images = await store.import(await writeDockerSave(join(base, `save-${layout}.tar`), [img], [['busybox:1.36', 'nsk/test:v1']], layout));
    t.is(images.length, 1);
    t.deepEqual(images[0]!.names, ['busybox:1.36', 'nsk/test:v1']);
    await expectTestImage(t, store, images[0]!);
    t.deepEqual(storeContents(store.root).blobs, [hex(img.configDigest)], 'the config blob is kept, by digest');
  });
}

const OCI: Array<[string, OciOptions]> = [
  ['directory, gzip', { compression: 'gzip' }],
  ['directory, zstd', { compression: 'zstd' }],
  ['directory, uncompressed', { compression: 'none' }],
  ['tar, gzip', { compression: 'gzip', tar: true }],
  ['tar, zstd, nested index of two platforms', { compression: 'zstd', tar: true, nested: true }],
  ['directory, uncompressed, nested index', { compression: 'none', nested: true }],
];
for (const [what, o] of OCI) {
  test(`an OCI layout (${what})`, async (t) => {
    const store = fresh();
    const path = await writeOciLayout(join(base, `oci-${what.replace(/\W+/g, '-')}${o.tar ? '.tar' : ''}`), await testImage(), { ...o, refName: '1.0' });
    const [image] = await store.import(path, { name: 'nsk/oci' });
    t.deepEqual(image!.names, ['nsk/oci:1.0'], 'ref.name "1.0" tags the repository given');
    await expectTestImage(t, store, image!);
  });
}

test('an OCI index with no manifest for this platform is refused, naming the platforms it has', async (t) => {
  const store = fresh();
  const files = (await import('./image-fixtures.ts')).ociFiles(await testImage(), { compression: 'none', nested: true });
  // Keep only the other platform in the nested index.
  const indexName = JSON.parse(files.get('index.json')!.toString()).manifests[0].digest.slice(7);
  const index = JSON.parse(files.get(`blobs/sha256/${indexName}`)!.toString());
  index.manifests = index.manifests.slice(0, 1);
  const b = Buffer.from(JSON.stringify(index));
  files.set(`blobs/sha256/${hex(sha256(b))}`, b);
  files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(b), size: b.length }] })));
  const path = await (await import('./image-fixtures.ts')).writeLayout(join(base, 'oci-other-platform'), files);
  await t.throwsAsync(store.import(path, { name: 'x' }), { instanceOf: ImageFormatError, message: /no manifest for linux\/\w+ \(it has: linux\/(s390x|ppc64le)\)/ });
  t.deepEqual(storeContents(store.root), EMPTY_STORE);
});

test('a layer already stored is not opened again: its directory keeps its inode and mtime', async (t) => {
  const img = await testImage();
  const store = fresh();
  const [first] = await store.import(await writeDockerSave(join(base, 'save-once.tar'), [img], [['once:1']], 'legacy'));
  const dir = join(store.root, 'layers/sha256', hex(img.diffIds[0]));
  const before = statSync(dir);
  const busyboxBefore = statSync(join(dir, 'diff/bin/busybox'));
  // The same layers from another source, each counting its opens.
  let opened = 0;
  const layers: LayerSource[] = img.layers.map((l) => ({
    digest: sha256(l), mediaType: 'application/vnd.oci.image.layer.v1.tar', size: l.length,
    open: async () => { opened++; throw new Error('not needed'); },
  }));
  const phases: string[] = [];
  const again = await store.addImage({ names: ['once:2'], config: img.config, layers }, { onProgress: (p) => phases.push(p.phase) });
  t.is(opened, 0);
  t.deepEqual(phases, ['exists', 'exists', 'commit']);
  t.is(again.id, first!.id);
  t.deepEqual(again.names, ['once:1', 'once:2']);
  const after = statSync(dir);
  t.is(after.ino, before.ino);
  t.is(after.mtimeMs, before.mtimeMs);
  t.is(statSync(join(dir, 'diff/bin/busybox')).ino, busyboxBefore.ino);
  t.is(readdirSync(join(store.root, 'layers/sha256')).length, 2);
});

test('get() by name, name:tag, docker.io prefix, id and id prefix; ImageNotFoundError otherwise; list() and remove()', async (t) => {
  const img = await testImage();
  const store = fresh();
  await store.import(await writeDockerSave(join(base, 'save-get.tar'), [img], [['busybox:latest', 'busybox:1.36']], 'legacy'));
  const id = img.configDigest;
  for (const ref of ['busybox', 'busybox:latest', 'busybox:1.36', 'docker.io/library/busybox:1.36', id, hex(id), hex(id).slice(0, 12), `sha256:${hex(id).slice(0, 8)}`]) {
    t.is(store.get(ref).id, id, ref);
  }
  for (const ref of ['busybox:1.35', 'alpine', 'ffff']) t.throws(() => store.get(ref), { instanceOf: ImageNotFoundError, message: /no image/ }, ref);
  t.deepEqual(store.list().map((i) => [i.id, i.names]), [[id, ['busybox:1.36', 'busybox:latest']]]);
  store.remove('busybox:1.36');
  t.deepEqual(store.get('busybox').names, ['busybox:latest'], 'untagged, the image stays');
  store.remove('busybox');
  t.deepEqual(store.list(), [], 'its last name gone, the image goes');
  t.is(storeContents(store.root).layers.length, 2, 'layers stay until gc()');
  const gc = store.gc();
  t.deepEqual(gc.removedLayers.sort(), [...img.diffIds].sort());
  t.deepEqual(gc.removedBlobs, [id]);
  t.deepEqual(storeContents(store.root), EMPTY_STORE);
});

test('bad input is refused with a ValidationError before anything is created', async (t) => {
  const root = join(base, 'never');
  t.throws(() => new ImageStore({ root: '/tmp/a:b' }), { instanceOf: ValidationError, message: /store.root/ });
  const store = new ImageStore({ root });
  const img = await testImage();
  const layer = { digest: sha256(img.layers[0]), mediaType: 'application/vnd.oci.image.layer.v1.tar', open: async () => { throw new Error('never'); } };
  const bad: Array<[unknown, RegExp]> = [
    [{ names: ['Busybox'], config: img.config, layers: [] }, /names\[0\]: "Busybox" is not an image name/],
    [{ names: [], config: 'x', layers: [] }, /config: must be the config blob/],
    [{ names: [], config: img.config, layers: [{ ...layer, digest: 'md5:x' }] }, /layers\[0\].digest/],
    [{ names: [], config: img.config, layers: [{ ...layer, size: -1 }] }, /layers\[0\].size/],
    [{ names: [], config: img.config, layers: [layer], configDigest: 'sha256:1' }, /configDigest/],
  ];
  for (const [input, message] of bad) await t.throwsAsync(store.addImage(input as never), { instanceOf: ValidationError, message });
  await t.throwsAsync(store.import(join(base, 'missing.tar')), { instanceOf: ValidationError, message: /does not exist/ });
  await t.throwsAsync(store.import(join(base, 'missing.tar'), { name: 'UPPER' }), { instanceOf: ValidationError });
  t.throws(() => store.prepareRootfs('busybox', '../x'), { instanceOf: ValidationError, message: /containerId/ });
  t.false(existsSync(root), 'the store directory was not even made');
  // A directory that is no image layout.
  mkdirSync(join(base, 'not-a-layout'));
  await t.throwsAsync(store.import(join(base, 'not-a-layout')), { instanceOf: ImageFormatError, message: /neither an OCI image layout/ });
});

test('docker save of two images sharing a layer (the second one’s layer.tar a symlink to the first’s): both imported, the layer unpacked once', async (t) => {
  const img = await testImage();
  const sib = await (await import('./image-fixtures.ts')).siblingImage();
  const { tarOf } = await import('./image-fixtures.ts');
  const cfg = (i: typeof img) => `${hex(i.configDigest)}.json`;
  const archive = await tarOf([
    { name: 'l1/', type: 'directory' }, { name: 'l1/layer.tar', type: 'file', content: img.layers[0] },
    { name: 'l2/', type: 'directory' }, { name: 'l2/layer.tar', type: 'file', content: img.layers[1] },
    { name: 's1/', type: 'directory' }, { name: 's1/layer.tar', type: 'symlink', linkname: '../l1/layer.tar' },
    { name: 's2/', type: 'directory' }, { name: 's2/layer.tar', type: 'file', content: sib.layers[1] },
    { name: cfg(img), type: 'file', content: img.config }, { name: cfg(sib), type: 'file', content: sib.config },
    { name: 'manifest.json', type: 'file', content: JSON.stringify([
      { Config: cfg(img), RepoTags: ['img:1'], Layers: ['l1/layer.tar', 'l2/layer.tar'] },
      { Config: cfg(sib), RepoTags: ['sib:1'], Layers: ['s1/layer.tar', 's2/layer.tar'] },
    ]) },
  ]);
  const path = join(base, 'save-two.tar');
  (await import('node:fs')).writeFileSync(path, archive);
  const store = fresh();
  const phases: string[] = [];
  const images = await store.import(path, { onProgress: (p) => { if (p.phase !== 'layer') phases.push(p.phase); } });
  t.deepEqual(images.map((i) => i.names), [['img:1'], ['sib:1']]);
  t.deepEqual(phases, ['index', 'commit', 'exists', 'commit'], 'the shared layer is unpacked for the first image and found for the second');
  t.deepEqual(storeContents(store.root).layers, [...new Set([...img.diffIds, ...sib.diffIds])].map(hex).sort());
  await t.throwsAsync(store.import(path, { name: 'one' }), { instanceOf: ValidationError, message: /holds 2 images/ });
});
