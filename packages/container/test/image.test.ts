// A container from an image: the store's overlay directories as its root
// (the layers read-only, writes in the container's own upper directory),
// the image's config as defaults, the store's cleanup when it ends. The
// store here is a stand-in with the ImageStore methods a container uses,
// its layers a small top layer over the test's busybox rootfs.
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NskError, SyscallError, ValidationError } from '@nsk/syscall';
import { execFileSync } from 'node:child_process';
import { ImageStore } from '@nsk/rootfs';
import { testRootfs } from '@nsk/testkit';
import { prepare, start, type ImageConfigLike, type ImageStoreLike, type PreparedImageRootfs } from '../src/index.ts';
import { baseline, leftovers, runBox, shIn, traces } from './helpers/box.ts';
import { standInHost } from './helpers/stand-in-host.ts';

const host = standInHost(); // the bridge's host side, a namespace of this test's own
const before = baseline();
const tmp = mkdtempSync(join(tmpdir(), 'nsk-container-image-'));
const top = join(tmp, 'layer-top');
mkdirSync(join(top, 'etc'), { recursive: true });
writeFileSync(join(top, 'etc/motd'), 'from the image\n');
const layers = [top, testRootfs()];
const names: string[] = [];

class StandInStore implements ImageStoreLike {
  readonly made: string[] = [];
  /** What the container wrote, read from its upper directory just before removal. */
  readonly upperAtCleanup = new Map<string, string[]>();
  readonly config: ImageConfigLike;
  constructor(config: Partial<ImageConfigLike>) {
    this.config = { env: [], entrypoint: [], cmd: [], workingDir: '', user: '', ...config };
  }
  get(ref: string) {
    if (ref !== 'test:1') throw new NskError(`image ${ref} not found`, 'ERR_NSK_IMAGE_NOT_FOUND');
    return { id: 'sha256:0123', config: this.config };
  }
  prepareRootfs(ref: string, containerId: string): PreparedImageRootfs {
    this.get(ref);
    const dir = join(tmp, 'containers', containerId);
    for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });
    this.made.push(dir);
    return {
      lower: layers, upper: join(dir, 'upper'), work: join(dir, 'work'), target: join(dir, 'merged'), config: this.config,
      cleanup: () => {
        this.upperAtCleanup.set(containerId, existsSync(join(dir, 'upper/etc')) ? readdirSync(join(dir, 'upper/etc')).sort() : []);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

test.after.always('nothing is left behind: no overlay, no container directory', (t) => {
  t.deepEqual(host.strayVeths(), []);
  t.deepEqual(host.links(), ['lo'], 'the bridge went with its last container');
  for (const n of names) t.deepEqual([...traces(n, host.stateDir), ...traces(n)], [], n);
  host.done();
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
  t.deepEqual(existsSync(join(tmp, 'containers')) ? readdirSync(join(tmp, 'containers')) : [], []);
  t.is(readFileSync(join(top, 'etc/motd'), 'utf8'), 'from the image\n', 'the layers are never written');
  rmSync(tmp, { recursive: true, force: true });
});

test('the image’s Env, Entrypoint + Cmd, WorkingDir are the defaults; the root is an overlay whose writes land in the container’s upper directory', async (t) => {
  const store = new StandInStore({
    env: ['PATH=/usr/bin:/bin', 'GREETING=hello'], entrypoint: ['/bin/sh', '-c'],
    cmd: ['echo "$GREETING from $(pwd) as $(id -u)"; cat /etc/motd; echo changed > /etc/motd; cat /etc/motd; grep " / " /proc/self/mountinfo; cat /etc/hosts'],
    workingDir: '/app',
  });
  const out = await runBox({ image: 'test:1', store, network: 'bridge', hostname: 'img', networkHost: host.networkHost });
  names.push(out.name);
  t.is(out.status, 0, out.stderr);
  const lines = out.stdout.split('\n');
  t.is(lines[0], 'hello from /app as 0');
  t.deepEqual(lines.slice(1, 3), ['from the image', 'changed']);
  t.regex(lines[3]!, / \/ .* - overlay overlay .*lowerdir=/);
  t.regex(out.stdout, /10\.88\.\d+\.\d+\s+img/, '/etc/hosts made in the upper layer and bound');
  t.deepEqual(store.upperAtCleanup.get(out.name), ['hosts', 'motd', 'resolv.conf']);
  t.false(existsSync(store.made.at(-1)!), 'the store’s cleanup ran');
});

test('a command replaces Cmd, the spec’s env goes over the image’s, the image’s User is read from its layers', async (t) => {
  const store = new StandInStore({ env: ['A=image', 'B=image'], cmd: ['/bin/false'], user: 'nobody' });
  const r = await shIn({ image: 'test:1', store, network: 'none', env: ['B=spec'] }, 'echo "$A $B $(id -u):$(id -g) $HOME"');
  names.push(r.name);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'image spec 65534:65534 /nonexistent');
});

test('the store’s directories are removed after a failed start, and explain() makes and removes its own', async (t) => {
  const store = new StandInStore({ cmd: ['/no/such/program'] });
  const err = await t.throwsAsync(start({ image: 'test:1', store, network: 'none', name: 'image-fail' }), { instanceOf: SyscallError });
  t.is((err as SyscallError).errno, 'ENOENT');
  t.false(existsSync(join(tmp, 'containers', 'image-fail')));
  const p = prepare({ image: 'test:1', store, network: 'none', name: 'image-explain' });
  t.regex(p.explain(), /mount\("overlay", ".*merged", "overlay", .*lowerdir=/);
  t.false(existsSync(join(tmp, 'containers', 'image-explain-explain')));
  t.deepEqual(traces('image-fail'), []);
});

test('an image the store does not have is refused at prepare, naming the field', (t) => {
  const err = t.throws(() => prepare({ image: 'missing:1', store: new StandInStore({}) }), { instanceOf: ValidationError });
  t.is(err?.field, 'image');
});

test('with @nsk/rootfs’s ImageStore: an imported `docker export` tar runs, its container directory removed at the end', async (t) => {
  const tar = join(tmp, 'busybox.tar');
  execFileSync('tar', ['-C', testRootfs(), '-cf', tar, '.']);
  const store = new ImageStore({ root: join(tmp, 'store') });
  const [image] = await store.import(tar, { name: 'nsk-test/busybox:1' });
  t.truthy(image);
  const r = await shIn({ image: 'nsk-test/busybox:1', store, network: 'none', name: 'image-real' }, 'echo written > /root/file; cat /root/file; grep " / " /proc/self/mountinfo');
  names.push(r.name);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^written\n.* \/ .* - overlay overlay /);
  t.false(existsSync(join(store.root, 'containers', 'image-real')));
  t.false(existsSync(join(testRootfs(), 'root/file')));
});
