import test from 'ava';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MNT, MS, SyscallError, ValidationError, mount, umount2 } from '@nsk/syscall';
import { Plan } from '@nsk/clone';
import { entries, hostState, mountPoints } from '@nsk/testkit';
import { inspectFile, list, persist, persistDir, unpersist } from '../src/index.ts';
import { box, enterSh, links, stop, until, leftovers, PREFIX } from './helpers.ts';

const before = hostState();
// ip-netns(8) leaves /run/netns a shared mount point for good; a test must
// not, so when it was not one before, it is taken down again at the end.
const runNetnsWasMounted = mountPoints().includes('/run/netns');
const runNetnsExisted = existsSync('/run/netns');
test.after.always('/run/netns is as it was', () => {
  if (!runNetnsWasMounted && mountPoints().includes('/run/netns')) umount2('/run/netns', MNT.DETACH);
  if (!runNetnsExisted) rmSync('/run/netns', { recursive: false, force: true });
});
test.after.always('nothing is left behind: no mounts, children, fds or files', (t) => {
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
  const ours = (dir: string) => entries(dir).filter((n) => n.includes(PREFIX));
  t.deepEqual([...ours('/run/netns'), ...ours(tmpdir())], []);
});

/** The mountinfo line of `path` (the last one mounted there). */
const mountLine = (path: string): string | undefined =>
  readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === path).at(-1);

const inode = (link: string) => Number(/\[(\d+)\]/.exec(link)![1]);

test.serial('a container’s net namespace persisted at /run/netns/NAME outlives it: ip netns exec and enter({files}) see it; unpersist leaves nothing', async (t) => {
  // The container brings its loopback up: state that only this namespace has.
  const c = await box({ script: '/bin/busybox ip link set lo up && exec /bin/busybox sleep 1000' });
  const name = `${PREFIX}-net`;
  let path: string | undefined;
  try {
    await until(() => readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').includes('sleep'));
    const netns = inode(links(c.pid).net);
    const p = persist({ pid: c.pid, type: 'net', name });
    path = p.path;
    t.is(p.path, `/run/netns/${name}`);
    t.is(p.path, `${persistDir('net')}/${name}`);
    t.is(p.namespace.inode, netns);
    // ip-netns(8)'s layout: /run/netns is a shared mount, the file an nsfs bind mount.
    t.regex(mountLine('/run/netns')!, / shared:\d+/);
    t.regex(mountLine(p.path)!, new RegExp(` net:\\[${netns}\\] ${p.path} .* - nsfs `));
    await stop(c);
    t.false(list().some((e) => e.type === 'net' && e.inode === netns), 'no process is in it any more');
    const held = list({ mounted: true }).find((e) => e.type === 'net' && e.inode === netns);
    t.like(held, { nprocs: 0, pid: null, mounts: [p.path] });
    t.deepEqual(inspectFile(p.path), p.namespace);
    // iproute2 finds it by name, and it is the same namespace, lo still up.
    t.is(execFileSync('ip', ['netns', 'exec', name, 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' }).trim(), `net:[${netns}]`);
    t.regex(execFileSync('ip', ['netns', 'exec', name, 'ip', '-o', 'link', 'show', 'lo'], { encoding: 'utf8' }), /<LOOPBACK,UP,LOWER_UP>/);
    const r = await enterSh({ files: { net: p.path } }, 'readlink /proc/self/ns/net; ip -o link show lo');
    t.regex(r.stdout, new RegExp(`^net:\\[${netns}\\]\\n.*<LOOPBACK,UP,LOWER_UP>`));
    unpersist(p.path);
    path = undefined;
    t.false(existsSync(p.path));
    t.false(mountPoints().includes(p.path));
    t.false(list({ mounted: true }).some((e) => e.type === 'net' && e.inode === netns));
  } finally {
    if (path) unpersist(path);
    await stop(c).catch(() => {});
  }
});

test.serial('a mount namespace is persisted only onto a private mount: where it would propagate the kernel refuses (EINVAL), so persist() makes the directory private', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}-mnt-`));
  const peer = mkdtempSync(join(tmpdir(), `${PREFIX}-peer-`));
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  // The directory is a shared mount with a peer, as /run is on a systemd
  // host, shared with the mount namespaces cloned from it.
  mount(dir, dir, null, MS.BIND);
  mount(null, dir, null, MS.SHARED);
  mount(dir, peer, null, MS.BIND);
  const plan = new Plan();
  plan.mount(null, '/', null, MS.REC | MS.PRIVATE);
  plan.mount('tmpfs', sub, 'tmpfs', 0, 'size=64k');
  const c = await box({ namespaces: ['mount', 'pid'], plan, script: `echo kept > ${sub}/marker && exec /bin/busybox sleep 1000` });
  const path = join(dir, 'mnt');
  let persisted = false;
  try {
    await until(() => existsSync(`/proc/${c.pid}/root${sub}/marker`));
    t.false(existsSync(`${sub}/marker`), 'the container’s tmpfs is not on the host');
    // The kernel rule, seen directly: a bind of a mount-namespace file onto
    // a mount that would propagate it to its peer.
    const raw = join(dir, 'raw');
    closeSync(openSync(raw, 'w'));
    const refused = t.throws(() => mount(`/proc/${c.pid}/ns/mnt`, raw, null, MS.BIND), { instanceOf: SyscallError });
    t.is(refused?.errno, 'EINVAL');
    rmSync(raw);
    const p = persist({ pid: c.pid, type: 'mount', path });
    persisted = true;
    t.notRegex(mountLine(dir)!, / shared:/);
    t.is(mountLine(join(peer, 'mnt')), undefined, 'nothing propagated to the peer');
    t.is(p.namespace.inode, inode(links(c.pid).mnt));
    await stop(c);
    // The namespace, and the tmpfs mounted in it, outlived every process.
    const r = await enterSh({ files: { mount: path } }, `cat ${sub}/marker`);
    t.is(r.stdout, 'kept\n');
    unpersist(path);
    persisted = false;
    t.false(existsSync(path));
  } finally {
    if (persisted) unpersist(path);
    await stop(c).catch(() => {});
    umount2(peer, MNT.DETACH);
    umount2(dir, MNT.DETACH);
    rmSync(peer, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('persisting our own mount namespace is refused with the reason, and leaves no file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}-self-`));
  const path = join(dir, 'self');
  try {
    const err = t.throws(() => persist({ pid: 'self', type: 'mount', path }), { instanceOf: SyscallError });
    t.is(err.errno, 'EINVAL');
    t.regex(err.message, /newer than this process/);
    t.false(existsSync(path));
  } finally {
    umount2(dir, MNT.DETACH);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('bad names fail before anything is made; an existing name is never replaced; unpersist touches only namespace files', async (t) => {
  const bad: Array<[object, string]> = [
    [{ pid: process.pid, type: 'net', name: 'a/b' }, 'name'],
    [{ pid: process.pid, type: 'net', name: '..' }, 'name'],
    [{ pid: process.pid, type: 'net' }, 'name'],
    [{ pid: process.pid, type: 'net', name: 'x', path: '/tmp/x' }, 'name'],
    [{ pid: process.pid, type: 'net', path: 'relative' }, 'path'],
    [{ pid: process.pid, type: 'mnt', name: 'x' }, 'type'],
    [{ pid: -1, type: 'net', name: 'x' }, 'pid'],
  ];
  for (const [o, field] of bad) {
    const err = t.throws(() => persist(o as never), { instanceOf: ValidationError }, JSON.stringify(o));
    t.is(err?.field, field);
  }
  const c = await box({ namespaces: ['net'] });
  const path = `/run/netns/${PREFIX}-twice`;
  try {
    persist({ pid: c.pid, type: 'net', path });
    const again = t.throws(() => persist({ pid: c.pid, type: 'net', path }), { instanceOf: SyscallError });
    t.is(again.errno, 'EEXIST');
    t.regex(again.message, /unpersist it first/);
  } finally {
    unpersist(path);
    await stop(c);
  }
  const plain = join(mkdtempSync(join(tmpdir(), `${PREFIX}-plain-`)), 'file');
  writeFileSync(plain, 'data');
  t.throws(() => unpersist(plain), { instanceOf: ValidationError });
  t.is(readFileSync(plain, 'utf8'), 'data');
  rmSync(join(plain, '..'), { recursive: true });
});
