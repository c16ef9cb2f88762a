import test from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostState, leftSince } from '@nsk/testkit';
import { scratchDir } from '../../src/lab.ts';
import { OS_RELEASE_1, OS_RELEASE_2, buildImage, importLayout, runContainers, runFlat, type Built } from './index.ts';

const before = hostState();
const dir = scratchDir('nsk-workbook-images-');
test.after.always(() => dir.dispose());

let built: Built;
test.before(() => { built = buildImage(dir.path); });

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test.serial('an image is a tarball: the extracted export is a root a shell runs in', async (t) => {
  const f = await runFlat(built, dir.path);
  t.true(f.entries > 100);
  t.is(f.listing.length, 3);
  const [osRelease, motd, ls] = [f.output.split('\n').slice(0, 2).join('\n') + '\n', f.output.split('\n')[2], f.output.split('\n')[3]];
  t.is(osRelease, OS_RELEASE_1);
  t.is(motd, 'welcome to layer 1');
  t.regex(ls!, /\bbin\b.*\betc\b.*\bproc\b/);
});

test.serial('the OCI layout names every blob by the sha256 of its bytes; the config lists the tars’ own sha256 as diff ids', (t) => {
  const blobs = readdirSync(join(built.layout, 'blobs/sha256'));
  t.is(blobs.length, 4, 'two layers, a config, a manifest');
  for (const b of blobs) t.is(sha256(readFileSync(join(built.layout, 'blobs/sha256', b))), `sha256:${b}`);
  const config = JSON.parse(readFileSync(join(built.layout, 'blobs/sha256', built.configDigest.slice(7)), 'utf8'));
  t.deepEqual(config.rootfs.diff_ids, built.layers.map((l) => sha256(readFileSync(l.tar))));
  t.notDeepEqual(built.layers.map((l) => l.digest), built.layers.map((l) => l.diffId), 'the blobs are gzip: digest ≠ diff id');
  t.deepEqual(JSON.parse(built.manifest).layers.map((l: { digest: string }) => l.digest), built.layers.map((l) => l.digest));
});

test.serial('imported, the layers are directories in the store; the whiteout became a 0:0 character device; containers see the merged image, write to their own upper dirs, and share the unchanged layers', async (t) => {
  const { store, image, layers } = await importLayout(built, join(dir.path, 'store'));
  t.deepEqual(image.names, ['demo:1.0']);
  t.deepEqual(image.layers, built.layers.map((l) => l.diffId));
  t.deepEqual(image.config.cmd, ['/bin/sh']);
  t.is(image.config.workingDir, '/var/www');
  t.deepEqual(layers[1]!.etc, ['c 0,0  etc/motd  (an overlayfs whiteout)', '-    24  etc/os-release']);
  const wh = lstatSync(join(layers[1]!.dir, 'etc/motd'));
  t.true(wh.isCharacterDevice() && wh.rdev === 0);
  t.is(readFileSync(join(layers[0]!.dir, 'etc/motd'), 'utf8'), 'welcome to layer 1\n', 'layer 1 still has motd: the whiteout hides it only when stacked');

  const c = await runContainers(built, store, image);
  for (const v of [c.a, c.b]) {
    t.is(v.output, `${OS_RELEASE_2.trim()}\nls: /etc/motd: No such file or directory\n${v.id}\nEDITED=${v.id}`);
    t.deepEqual(v.upperFiles, ['c ./var/www/index.html  (whiteout)', 'd ./var/www', 'f ./etc/os-release', 'f ./root/note']);
    t.deepEqual(v.lower, layers.map((l) => l.dir).reverse(), 'lowerdir: topmost first');
    t.false(existsSync(v.upper), 'cleanup removed the container’s directory');
  }
  t.not(c.a.upper, c.b.upper);
  t.true(c.layersUnchanged);
  t.is(c.a.busyboxInode, c.layerInode);
  t.is(c.b.busyboxInode, c.layerInode);
  t.is(c.layerDirs, 2);
  t.true(c.layerInodesAfterReimport);
});

test.serial('nothing is left behind', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});
