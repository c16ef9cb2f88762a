// Containers run from imported images: an overlay of the image's layers
// (topmost first) under a fresh upper dir per container. The shell inside
// sees the merged image (layer 2's changes, its whiteout and opaque /opt);
// its writes land in the container's upper dir; the layer directories are
// never changed, and two containers of one image share them.
import test from 'ava';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore, type Image } from '../src/index.ts';
import { shIn, snapshot } from './image-container.ts';
import { hex, scratch, storeContents, testImage, writeDockerExport, writeDockerSave, writeOciLayout } from './image-fixtures.ts';

const base = scratch();
const store = new ImageStore({ root: join(base, 'store') });
const mounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(base));
const children = () => readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8').trim();
const fds = () => readdirSync('/proc/self/fd');
const fdsBefore = fds();

test.after.always('nothing is left behind: mounts, children, containers, files', (t) => {
  t.deepEqual(mounts(), []);
  t.is(children(), '');
  t.deepEqual(fds().filter((fd) => !fdsBefore.includes(fd)), []);
  t.deepEqual(storeContents(store.root).containers, []);
  t.deepEqual(storeContents(store.root).tmp, []);
  rmSync(base, { recursive: true, force: true });
});

/** The script every container runs: what the image holds, then a write, a change and a delete. */
const SCRIPT = 'cat /etc/os-release; ls /etc/removed 2>&1; ls /opt; echo $$; '
  + 'echo note > /root/note; echo VERSION=changed >> /etc/os-release; rm /bin/hello; '
  + 'grep " / / " /proc/self/mountinfo | cut -d" " -f9-';

async function runImage(t: import('ava').ExecutionContext, image: Image, id: string): Promise<void> {
  const layerDirs = image.layers.map((d) => join(store.root, 'layers/sha256', hex(d)));
  const before = layerDirs.map(snapshot);
  const p = store.prepareRootfs(image.id, id);
  try {
    const r = await shIn(p, SCRIPT);
    t.is(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    t.deepEqual(lines.slice(0, 5), ['NAME="nsk test image"', 'VERSION=2', 'ls: /etc/removed: No such file or directory', 'new', '1']);
    // mountinfo: source "overlay", then the super options; overlayfs.rst: lowerdir lists the layers topmost first.
    t.deepEqual(p.lower, [...layerDirs].reverse().map((d) => join(d, 'diff')));
    t.true(lines[5]!.startsWith(`overlay rw,lowerdir=${p.lower.join(':')},upperdir=${p.upper},workdir=${p.work}`), lines[5]);
    // The writes are in this container's upper dir, and only there.
    t.is(readFileSync(join(p.upper, 'root/note'), 'utf8'), 'note\n');
    t.is(readFileSync(join(p.upper, 'etc/os-release'), 'utf8'), 'NAME="nsk test image"\nVERSION=2\nVERSION=changed\n');
    const wh = statSync(join(p.upper, 'bin/hello'));
    t.true(wh.isCharacterDevice() && wh.rdev === 0, 'the deleted file is a whiteout in upper');
    t.deepEqual(layerDirs.map(snapshot), before, 'the layers are unchanged');
    t.deepEqual(readdirSync(p.target), [], 'the overlay was mounted in the container’s namespace only');
  } finally {
    p.cleanup();
  }
  t.false(existsSync(join(store.root, 'containers', id)));
}

test.serial('a container runs from a docker export import', async (t) => {
  const [image] = await store.import(writeDockerExport(join(base, 'export.tar'), await testImage(), 'gzip'), { name: 'flat' });
  t.is(image!.layers.length, 1);
  await runImage(t, image!, 'flat-1');
});

test.serial('a container runs from a docker save import', async (t) => {
  const [image] = await store.import(await writeDockerSave(join(base, 'save.tar'), [await testImage()], [['saved:1']], 'oci'));
  await runImage(t, image!, 'saved-1');
});

test.serial('a container runs from an OCI layout import (zstd, in a tar)', async (t) => {
  const [image] = await store.import(await writeOciLayout(join(base, 'oci.tar'), await testImage(), { compression: 'zstd', tar: true }), { name: 'oci' });
  await runImage(t, image!, 'oci-1');
});

test.serial('two containers of one image at once share its layer directories; each has its own upper', async (t) => {
  const img = await testImage();
  const [image] = await store.import(await writeOciLayout(join(base, 'oci-shared'), img, { compression: 'gzip' }), { name: 'shared' });
  const a = store.prepareRootfs('shared', 'shared-a');
  const b = store.prepareRootfs('shared', 'shared-b');
  try {
    t.deepEqual(a.lower, b.lower);
    t.notDeepEqual(a.upper, b.upper);
    // Both running at once, each writing the same path; each reports the
    // inode of busybox it sees through the overlay's lower layer.
    const script = 'echo $0 > /root/who; stat -c %i /bin/busybox; cat /proc/self/mountinfo | grep " / / " | cut -d" " -f9-; sleep 0.3; cat /root/who';
    const [ra, rb] = await Promise.all([shIn(a, script.replace('$0', 'a')), shIn(b, script.replace('$0', 'b'))]);
    t.is(ra.code, 0, ra.stderr);
    t.is(rb.code, 0, rb.stderr);
    const [inoA, mountA, whoA] = ra.stdout.trim().split('\n');
    const [inoB, mountB, whoB] = rb.stdout.trim().split('\n');
    t.is(whoA, 'a');
    t.is(whoB, 'b');
    t.true(mountA!.includes(`lowerdir=${a.lower.join(':')}`) && mountB!.includes(`lowerdir=${a.lower.join(':')}`));
    // One unpacked copy: the file both see is the inode in the one layer directory.
    const busybox = statSync(join(a.lower[1]!, 'bin/busybox'));
    t.is(Number(inoA), busybox.ino);
    t.is(Number(inoB), busybox.ino);
    t.is(statSync(join(store.root, 'layers/sha256', hex(image!.layers[0]!))).ino, statSync(join(a.lower[1]!, '..')).ino);
    t.is(readFileSync(join(a.upper, 'root/who'), 'utf8'), 'a\n');
    t.is(readFileSync(join(b.upper, 'root/who'), 'utf8'), 'b\n');
  } finally {
    a.cleanup();
    b.cleanup();
  }
});
