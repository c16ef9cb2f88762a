// Every blob is checked against its digest while it streams, and every
// layer's uncompressed tar against the config's diff_ids. A mismatch is a
// DigestMismatchError naming the blob, and leaves nothing in the store: no
// layer (not even one that did match), no blob, no image, no name, no
// temporary directory.
import test from 'ava';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DigestMismatchError, ImageStore, type LayerSource } from '../src/index.ts';
import {
  EMPTY_STORE, storeLab, hex, ociFiles, scratch, sha256, storeContents, tarOf, testImage, writeDockerSave, writeLayout,
} from './image-fixtures.ts';

const { base, fresh } = storeLab(test);

/** A copy of `b` with one byte changed at `at` (counted from the end when negative). */
function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  const i = at < 0 ? c.length + at : at;
  c[i] = c[i]! ^ 0x01;
  return c;
}

/** The offset of `needle` inside a tar: to change a file's content and keep the tar valid. */
const offsetOf = (b: Buffer, needle: string) => b.indexOf(Buffer.from(needle));

async function rejected(t: import('ava').ExecutionContext, store: ImageStore, p: Promise<unknown>, message: RegExp): Promise<DigestMismatchError> {
  const err = await t.throwsAsync(p, { instanceOf: DigestMismatchError, message });
  t.deepEqual(storeContents(store.root), EMPTY_STORE, 'nothing was stored');
  return err as DigestMismatchError;
}

test('an OCI layer whose bytes are not its digest (a tar still valid) is refused', async (t) => {
  const img = await testImage();
  const files = ociFiles(img, { compression: 'none' });
  // The second layer's os-release says VERSION=3 instead of 2: a valid tar, other bytes.
  const name = `blobs/sha256/${hex(sha256(img.layers[1]))}`;
  const layer = files.get(name)!;
  files.set(name, flip(layer, offsetOf(layer, 'VERSION=2') + 8));
  const store = fresh();
  const err = await rejected(t, store, store.import(await writeLayout(join(base, 'oci-bad-plain'), files), { name: 'x' }), /^layer sha256:\w+ \(application\/vnd.oci.image.layer.v1.tar\)/);
  t.is(err.expected, sha256(img.layers[1]));
  t.is(err.actual, sha256(files.get(name)!));
});

test('a corrupt gzip layer is reported as the digest mismatch it is, not as the gzip error it causes', async (t) => {
  const img = await testImage();
  const files = ociFiles(img, { compression: 'gzip' });
  const name = `blobs/sha256/${hex(sha256(gzipSync(img.layers[0])))}`;
  files.set(name, flip(files.get(name)!, 5000));
  const store = fresh();
  const err = await rejected(t, store, store.import(await writeLayout(join(base, 'oci-bad-gzip.tar'), files, true), { name: 'x' }), /^layer .*tar\+gzip/);
  t.truthy(err.cause, 'what the bad bytes broke first is the cause');
});

test('a layer that matches its digest but not the config’s diff id is refused', async (t) => {
  const img = await testImage();
  // A consistent manifest and config for a layer 2 that is not the one the config names.
  const other = await tarOf([{ name: 'etc/', type: 'directory' }, { name: 'etc/other', type: 'file', content: 'x' }]);
  const config = Buffer.from(img.config.toString().replace(img.diffIds[1], sha256(other).replace(/.$/, (c) => (c === '0' ? '1' : '0'))));
  const store = fresh();
  const layers: LayerSource[] = [img.layers[0], other].map((l) => ({ digest: sha256(l), mediaType: 'application/vnd.oci.image.layer.v1.tar', size: l.length, open: async () => (await import('node:stream')).Readable.from([l]) }));
  const err = await rejected(t, store, store.addImage({ names: ['diff:1'], config, layers }), /^layer diff id /);
  t.is(err.actual, sha256(other));
  t.deepEqual(storeContents(store.root).layers, [], 'layer 1 matched and was unpacked, but is not kept either');
});

test('docker save: a corrupt layer.tar, a corrupt config, and a manifest whose size is wrong are refused', async (t) => {
  const img = await testImage();
  const good = readFileSync(await writeDockerSave(join(base, 'save.tar'), [img], [['s:1']], 'legacy'));
  // A byte of busybox inside the first layer.tar.
  const bad1 = flip(good, good.indexOf(readFileSync('/bin/busybox').subarray(4096, 4160)));
  writeFileSync(join(base, 'save-bad-layer.tar'), bad1);
  let store = fresh();
  await rejected(t, store, store.import(join(base, 'save-bad-layer.tar')), /^layer /);
  // The config's bytes (named <hex>.json) changed: "GREETING=hello" → "GREETING=hellp".
  const bad2 = flip(good, good.indexOf(Buffer.from('GREETING=hello')) + 13);
  writeFileSync(join(base, 'save-bad-config.tar'), bad2);
  store = fresh();
  await rejected(t, store, store.import(join(base, 'save-bad-config.tar')), /^config /);
  // OCI: the index.json descriptor claims one byte more than the manifest has.
  const files = ociFiles(img, { compression: 'none' });
  const index = JSON.parse(files.get('index.json')!.toString());
  index.manifests[0].size += 1;
  files.set('index.json', Buffer.from(JSON.stringify(index)));
  store = fresh();
  await rejected(t, store, store.import(await writeLayout(join(base, 'oci-bad-size'), files), { name: 'x' }), /^manifest size /);
});

test('addImage: a config that is not the digest the manifest names, and a layer shorter than its size, are refused', async (t) => {
  const img = await testImage();
  const store = fresh();
  const layers: LayerSource[] = img.layers.map((l) => ({ digest: sha256(l), mediaType: 'application/vnd.oci.image.layer.v1.tar', size: l.length, open: async () => (await import('node:stream')).Readable.from([l]) }));
  await rejected(t, store, store.addImage({ names: [], config: img.config, layers, configDigest: sha256(Buffer.from('other')) }), /^config the image config/);
  const short = [layers[0]!, { ...layers[1]!, size: layers[1]!.size! + 512 }];
  await rejected(t, store, store.addImage({ names: ['short:1'], config: img.config, layers: short }), /^layer size /);
});
