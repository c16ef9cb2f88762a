// The store shared by several importers at once (in one process and in
// others), guarded by flock(2) on root/lock; an importer killed midway
// leaves nothing in layers/ (they are renamed in whole); gc() keeps what
// images and live containers use and removes the rest, and the work of dead
// importers; the default root follows the caller.
import test from 'ava';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ValidationError } from '@nsk/syscall';
import { ContainerExistsError, ImageStore, defaultStoreRoot } from '../src/index.ts';
import { EMPTY_STORE, hex, scratch, siblingImage, storeContents, testImage, writeDockerSave, writeOciLayout } from './image-fixtures.ts';

const base = scratch();
let n = 0;
const fresh = () => new ImageStore({ root: join(base, `store-${++n}`) });
const NODE = process.execPath;
const NODE_ARGS = [...process.execArgv.filter((a) => a.startsWith('--conditions') || a.startsWith('--no-warnings')), '--conditions=nsk-source', '--no-warnings'];
const WORKER = join(import.meta.dirname, 'image-worker.ts');
const children: ChildProcess[] = [];

test.after.always('nothing is left behind: no child processes, no files', (t) => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  t.is(readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8').trim(), '');
  rmSync(base, { recursive: true, force: true });
});

const env = { ...process.env, NSK_IMAGE_SCRATCH: base };
const worker = (...args: string[]) => promisify(execFile)(NODE, [...NODE_ARGS, WORKER, ...args], { encoding: 'utf8', env });

test('three imports at once — two in other processes — sharing a layer: each layer unpacked into place once, every image whole', async (t) => {
  const store = fresh();
  const img = await testImage();
  const sib = await siblingImage();
  const save = await writeDockerSave(join(base, 'lock-save.tar'), [img], [['one:1']], 'legacy');
  const oci = await writeOciLayout(join(base, 'lock-oci.tar'), sib, { compression: 'gzip', tar: true });
  const oci2 = await writeOciLayout(join(base, 'lock-oci2'), img, { compression: 'zstd' });
  const [a, b, [c]] = await Promise.all([worker('import', store.root, save), worker('import', store.root, oci, 'two'), store.import(oci2, { name: 'three' })]);
  t.is(a.stdout.trim(), img.configDigest);
  t.is(b.stdout.trim(), sib.configDigest);
  t.is(c!.id, img.configDigest);
  const s = storeContents(store.root);
  t.deepEqual(s.layers, [...new Set([...img.diffIds, ...sib.diffIds])].map(hex).sort());
  t.deepEqual(s.names, ['one:1', 'three:latest', 'two:latest']);
  t.deepEqual(s.tmp, [], 'every importer removed its work');
  for (const l of s.layers) t.true(existsSync(join(store.root, 'layers/sha256', l, 'layer.json')) && existsSync(join(store.root, 'layers/sha256', l, 'diff/etc')));
  t.deepEqual(store.list().map((i) => i.id).sort(), [img.configDigest, sib.configDigest].sort());
});

test('a commit waits for the store lock: the image is recorded only after another holder of root/lock lets go', async (t) => {
  const store = fresh();
  mkdirSync(store.root, { recursive: true });
  // util-linux flock(1) holds flock(LOCK_EX) on root/lock for a second, and
  // notes the time just before it lets go.
  const released = join(base, 'released-at');
  const holder = spawn('flock', [join(store.root, 'lock'), 'sh', '-c', `echo locked; sleep 1; date +%s%N > ${released}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(holder);
  await new Promise((resolve) => holder.stdout!.once('data', resolve));
  const img = await testImage();
  await store.import(await writeOciLayout(join(base, 'wait-oci'), img, { compression: 'none' }), { name: 'waited' });
  const recorded = statSync(join(store.root, 'images', `${hex(img.configDigest)}.json`)).mtimeMs;
  t.true(recorded >= Number(readFileSync(released, 'utf8')) / 1e6, 'images/<id>.json was written after the other holder let go');
  t.is(store.get('waited').layers.length, 2);
});

test.serial('an importer killed midway leaves no layer behind; gc() removes its work once its lock is gone', async (t) => {
  const store = fresh();
  const child = spawn(NODE, [...NODE_ARGS, WORKER, 'stall', store.root], { stdio: ['ignore', 'pipe', 'inherit'], env });
  children.push(child);
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  // Layer 1 is unpacked (in tmp/), layer 2 is half read.
  const [work] = readdirSync(join(store.root, 'tmp')).filter((f) => !f.endsWith('.lock'));
  t.true(existsSync(join(store.root, 'tmp', work!, hex((await testImage()).diffIds[0]), 'diff/bin/busybox')));
  t.deepEqual(store.gc().removedLayers, []);
  t.true(existsSync(join(store.root, 'tmp', work!)), 'gc() leaves a live importer’s work alone');
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  t.deepEqual(storeContents(store.root).layers, [], 'nothing half-made in layers/');
  t.deepEqual(storeContents(store.root).images, []);
  store.gc();
  t.deepEqual(storeContents(store.root), EMPTY_STORE);
});

test('gc() keeps the layers of images and of live containers, then removes them once unreferenced', async (t) => {
  const store = fresh();
  const img = await testImage();
  const sib = await siblingImage();
  await store.import(await writeDockerSave(join(base, 'gc-save.tar'), [img, sib], [['img:1'], ['sib:1']], 'oci'));
  t.deepEqual(store.gc(), { removedLayers: [], removedBlobs: [] });
  const c = store.prepareRootfs('img:1', 'gc-c1');
  t.throws(() => store.prepareRootfs('img:1', 'gc-c1'), { instanceOf: ContainerExistsError });
  store.remove('img:1');
  // img's top layer is only the container's now; its bottom layer is sib's too.
  t.deepEqual(store.gc(), { removedLayers: [], removedBlobs: [img.configDigest] });
  for (const l of c.lower) t.true(existsSync(l));
  c.cleanup();
  t.deepEqual(store.gc(), { removedLayers: [img.diffIds[1]], removedBlobs: [] });
  store.remove(sib.configDigest);
  t.deepEqual(store.gc().removedLayers.sort(), [...sib.diffIds].sort());
  // A dead importer's work (its lock file not locked) goes too.
  mkdirSync(join(store.root, 'tmp/add-1-dead/x'), { recursive: true });
  writeFileSync(join(store.root, 'tmp/add-1-dead.lock'), '');
  store.gc();
  t.deepEqual(storeContents(store.root), EMPTY_STORE);
});

test('the default root: /var/lib/nsk for root, $XDG_DATA_HOME/nsk or ~/.local/share/nsk for anyone else; nothing is made before it is needed', (t) => {
  t.is(defaultStoreRoot(), '/var/lib/nsk');
  const existed = existsSync('/var/lib/nsk');
  t.is(new ImageStore().root, '/var/lib/nsk');
  t.is(existsSync('/var/lib/nsk'), existed, 'the constructor creates nothing');
  const as = (env: Record<string, string>) => execFileSync(NODE, [...NODE_ARGS, '--input-type=module', '-e',
    `import { defaultStoreRoot } from ${JSON.stringify(join(import.meta.dirname, '../src/image/store-root.ts'))}; process.stdout.write(defaultStoreRoot())`],
  { uid: 65534, gid: 65534, env: { PATH: '/usr/bin:/bin', ...env }, encoding: 'utf8', cwd: '/' });
  t.is(as({ HOME: '/home/nobody', XDG_DATA_HOME: '/srv/data' }), '/srv/data/nsk');
  t.is(as({ HOME: '/home/nobody' }), '/home/nobody/.local/share/nsk');
  t.is(as({ HOME: '/home/nobody', XDG_DATA_HOME: 'relative' }), '/home/nobody/.local/share/nsk', 'a relative XDG_DATA_HOME is ignored');
  t.throws(() => new ImageStore({ root: '' }), { instanceOf: ValidationError });
});
