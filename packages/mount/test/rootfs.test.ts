// rootfs(): pivot_root (or chroot) into a busybox root, observed from inside
// (the child's mountinfo) and from outside (the host's, and setns(2) into the
// child's mount namespace).
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Plan, spawn, type Child } from '@nsk/clone';
import { CLONE, O, AT, SyscallError, ValidationError } from '@nsk/syscall';
import { busyboxRootfs } from '@nsk/rootfs';
import { childrenOfThisProcess, hostState, leftSince, run } from '@nsk/testkit';
import { parseMountInfo, readMountInfo, rootfs, type RootfsOptions } from '../src/index.ts';

const before = hostState();
const base = mkdtempSync(join(tmpdir(), 'nsk-mount-rootfs-'));
const root = busyboxRootfs(join(base, 'root'));
const image = () => readdirSync(root).sort();
const imageBefore = image();

test.after.always('nothing is left behind: mounts, children, fds, files in the rootfs', (t) => {
  const left = leftSince(before);
  // Only mounts under this file's directory count: the other test files,
  // running alongside in other processes, mount under theirs.
  t.deepEqual(left.mounts.filter((m) => m.startsWith(base)), []);
  t.deepEqual(left.children, []);
  t.deepEqual(left.fds, []);
  t.deepEqual(image(), imageBefore);
  rmSync(base, { recursive: true, force: true });
});

const sh = (script: string, o: RootfsOptions, during?: (child: Child) => void | Promise<void>) =>
  run({ argv: ['/bin/sh', '-c', script], namespaces: ['pid', 'ipc', 'net', 'uts'], features: [rootfs(o)] }, during);

/** Where setns(2) into `pid`'s mount namespace lands: a child joins it and reports. */
async function joinMountNs(pid: number): Promise<string> {
  const plan = new Plan();
  const fd = plan.openat(AT.FDCWD, `/proc/${pid}/ns/mnt`, O.RDONLY);
  plan.setns(fd, CLONE.NEWNS, { label: 'join the container’s mount namespace' });
  const r = await run({ argv: ['/bin/busybox', 'sh', '-c', 'test -e /.nsk-rootfs && echo rootfs || echo host'], plan });
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

const EXPECTED_MOUNTS = [
  '/', '/dev', '/dev/full', '/dev/mqueue', '/dev/null', '/dev/pts', '/dev/random', '/dev/shm', '/dev/tty', '/dev/urandom', '/dev/zero',
  '/proc', '/sys',
  // runc's masked paths this kernel has (the others are missing here: ENOENT is fine) …
  ...['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
    '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'].filter((p) => existsSync(p)),
  // … and its read-only paths.
  ...['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'].filter((p) => existsSync(p)),
];

test.serial('after pivot_root the child’s / is the rootfs, pid 1, and the old root is gone from its namespace', async (t) => {
  let joined = '';
  const r = await sh('cat /.nsk-rootfs; echo $$; readlink /proc/1/exe; cat /proc/self/mountinfo; exec sleep 10', { path: root, readonly: true }, async (child) => {
    await new Promise((res) => setTimeout(res, 100));
    joined = await joinMountNs(child.pid);
    child.kill('SIGKILL');
  });
  const [marker, pid, exe, ...rest] = r.stdout.trim().split('\n');
  t.regex(marker!, /^busybox /);
  t.is(pid, '1');
  t.is(exe, '/bin/busybox');
  const mounts = parseMountInfo(rest.join('\n') + '\n');
  t.deepEqual(mounts.map((m) => m.mountPoint).sort(), [...EXPECTED_MOUNTS, '/tmp'].sort());
  t.true(mounts.find((m) => m.mountPoint === '/')!.options.includes('ro'));
  t.true(mounts.every((m) => m.optionalFields.length === 0), 'every mount is private');
  // setns(2) into the namespace lands at its root mount, below anything
  // stacked on it: the rootfs, since the old root was detached.
  t.is(joined, 'rootfs');
});

test.serial('with chroot the child’s / is the rootfs too, but the host’s mounts stay in its namespace', async (t) => {
  let joined = '';
  const r = await sh('cat /.nsk-rootfs; ls /; exec sleep 10', { path: root, chroot: true }, async (child) => {
    await new Promise((res) => setTimeout(res, 100));
    joined = await joinMountNs(child.pid);
    child.kill('SIGKILL');
  });
  t.regex(r.stdout, /^busybox /);
  t.is(joined, 'host', 'setns lands at the host’s root: chroot only moved the child’s "/"');
});

test.serial('a read-only root refuses writes with EROFS; /tmp is a writable tmpfs', async (t) => {
  const r = await sh('touch /root/x 2>&1; { echo >> /etc/passwd; } 2>&1; touch /tmp/ok && echo tmp-ok', { path: root, readonly: true });
  t.is(r.stdout, 'touch: /root/x: Read-only file system\n/bin/sh: can\'t create /etc/passwd: Read-only file system\ntmp-ok\n');
  t.false(existsSync(join(root, 'root/x')));
  t.false(existsSync(join(root, 'tmp/ok')));
});

test.serial('a writable root keeps the child’s writes in the rootfs directory', async (t) => {
  const r = await sh('echo written > /root/note', { path: root });
  t.is(r.code, 0, r.stderr);
  t.is(readFileSync(join(root, 'root/note'), 'utf8'), 'written\n');
  rmSync(join(root, 'root/note'));
});

test.serial('an overlay root: the child’s writes land in upper, the image stays untouched', async (t) => {
  const upper = join(base, 'ov-upper');
  const work = join(base, 'ov-work');
  mkdirSync(upper);
  mkdirSync(work);
  const r = await sh('echo written > /root/note; rm /etc/hostname; echo changed >> /etc/passwd; grep " / / " /proc/self/mountinfo | cut -d" " -f9',
    { path: root, overlay: { upper, work } });
  t.is(r.stdout, 'overlay\n', r.stderr);
  t.is(readFileSync(join(upper, 'root/note'), 'utf8'), 'written\n');
  t.regex(readFileSync(join(upper, 'etc/passwd'), 'utf8'), /changed\n$/);
  t.false(existsSync(join(root, 'root/note')));
  t.is(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'nsk\n');
  t.notRegex(readFileSync(join(root, 'etc/passwd'), 'utf8'), /changed/);
});

test.serial('volumes: a read-write one shares writes with the host, a read-only one refuses them (EROFS) and the host is unchanged', async (t) => {
  const rw = join(base, 'vol-rw');
  const ro = join(base, 'vol-ro');
  mkdirSync(rw);
  mkdirSync(ro);
  writeFileSync(join(ro, 'data'), 'host data\n');
  const file = join(base, 'vol-file');
  writeFileSync(file, 'one file\n');
  // /srv and /mnt/deep/er do not exist in the image: made for the mounts, removed after.
  const r = await sh('echo from-inside > /srv/rw/note; cat /mnt/deep/er/data; echo x > /mnt/deep/er/data; touch /mnt/deep/er/new; cat /etc/vol-file; grep -E " /(srv/rw|mnt/deep/er) " /proc/self/mountinfo | cut -d" " -f5,6',
    { path: root, volumes: [{ source: rw, target: '/srv/rw' }, { source: ro, target: '/mnt/deep/er', readonly: true }, { source: file, target: '/etc/vol-file', readonly: true }] });
  t.is(r.stderr, '/bin/sh: can\'t create /mnt/deep/er/data: Read-only file system\ntouch: /mnt/deep/er/new: Read-only file system\n');
  const [data, vfile, ...mounts] = r.stdout.trim().split('\n');
  t.is(data, 'host data');
  t.is(vfile, 'one file');
  t.deepEqual(mounts.map((l) => l.split(' ')).map(([at, opts]) => [at, opts!.split(',')[0]]), [['/srv/rw', 'rw'], ['/mnt/deep/er', 'ro']]);
  t.is(readFileSync(join(rw, 'note'), 'utf8'), 'from-inside\n');
  t.deepEqual(readdirSync(ro), ['data']);
  t.is(readFileSync(join(ro, 'data'), 'utf8'), 'host data\n');
  // The mount points made for the volumes are gone again.
  t.false(existsSync(join(root, 'srv')));
  t.false(existsSync(join(root, 'mnt')));
  t.false(existsSync(join(root, 'etc/vol-file')));
});

test.serial('a mount point made for two containers stays until the last of them has ended', async (t) => {
  const vol = join(base, 'vol-shared');
  mkdirSync(vol);
  const volumes = [{ source: vol, target: '/shared-vol' }];
  const start = () => spawn({ argv: ['/bin/sleep', '10'], stdio: [], namespaces: ['pid'], features: [rootfs({ path: root, volumes })] });
  const a = await start();
  const b = await start();
  t.true(existsSync(join(root, 'shared-vol')));
  a.kill('SIGKILL');
  await a.exited;
  t.true(existsSync(join(root, 'shared-vol')), 'b still has its volume mounted there');
  t.is(readFileSync(`/proc/${b.pid}/mountinfo`, 'utf8').split('\n').filter((l) => l.split(' ')[4] === '/shared-vol').length, 1);
  b.kill('SIGKILL');
  await b.exited;
  t.false(existsSync(join(root, 'shared-vol')));
});

test.serial('a volume target is resolved inside the rootfs: a symlink there cannot point the bind at the host', async (t) => {
  // /escape -> /../../etc/nsk-volume-escape, as an image could ship it. Followed from the host's
  // "/", the mkdir and the bind would land on the host's /etc.
  symlinkSync('/../../etc/nsk-volume-escape', join(root, 'escape'));
  const vol = join(base, 'vol-escape');
  mkdirSync(vol);
  writeFileSync(join(vol, 'f'), 'in the volume\n');
  try {
    const r = await sh('cat /etc/nsk-volume-escape/f', { path: root, volumes: [{ source: vol, target: '/escape' }] });
    t.is(r.stdout, 'in the volume\n', r.stderr);
    t.false(existsSync('/etc/nsk-volume-escape'));
  } finally {
    rmSync(join(root, 'escape'));
  }
});

test.serial('a failing step is reported by its label, and nothing is left', async (t) => {
  const children = childrenOfThisProcess().length;
  const err = await t.throwsAsync(spawn({ argv: ['/bin/true'], features: [rootfs({ path: root, volumes: [{ source: '/etc/hostname', target: '/root' }] })] }), { instanceOf: SyscallError });
  t.is(err.step, `bind /etc/hostname on ${root}/root`);
  t.is(err.errno, 'ENOTDIR');
  t.is(childrenOfThisProcess().length, children);
});

test('bad rootfs options are refused with a ValidationError before any clone', (t) => {
  const children = childrenOfThisProcess();
  const mounts = readMountInfo().length;
  const empty = join(base, 'empty');
  mkdirSync(empty, { recursive: true });
  const bad: Array<[RootfsOptions, RegExp]> = [
    [{ path: 'relative' }, /rootfs.path: must be an absolute path/],
    [{ path: '/nonexistent/nsk' }, /rootfs.path: \/nonexistent\/nsk is not a directory/],
    [{ path: empty }, /has no \/proc directory/],
    [{ path: empty, proc: false, dev: false, sys: false, masked: [], readonly: true }, /has no \/tmp directory/],
    [{ path: root, volumes: [{ source: join(base, 'missing'), target: '/x' }] }, /volumes\[0\].source: .* does not exist/],
    [{ path: root, volumes: [{ source: base, target: 'relative' }] }, /volumes\[0\].target: must be an absolute path/],
    [{ path: root, volumes: [{ source: base, target: '/proc/x' }] }, /inside \/proc/],
    [{ path: root, volumes: [{ source: base, target: '/sys/../sys/y' }] }, /inside \/sys/],
    [{ path: root, volumes: [{ source: base, target: '/' }] }, /cannot be the container’s \//],
    // @ts-expect-error: work is required
    [{ path: root, overlay: { upper: base } }, /overlay.work/],
    // @ts-expect-error: upper is required
    [{ path: root, overlay: { work: base } }, /overlay.upper/],
    [{ path: root, masked: ['relative'] }, /rootfs.masked\[0\]: must be an absolute path/],
    [{ path: root, dev: false }, /masking a file binds \/dev\/null/],
    // @ts-expect-error: not a propagation type
    [{ path: root, propagation: 'sideways' }, /rootfs.propagation/],
    // @ts-expect-error: not a sys mode
    [{ path: root, sys: 'rw' }, /rootfs.sys/],
  ];
  for (const [o, message] of bad) t.throws(() => rootfs(o), { instanceOf: ValidationError, message }, JSON.stringify(o));
  t.deepEqual(childrenOfThisProcess(), children);
  t.is(readMountInfo().length, mounts);
});
