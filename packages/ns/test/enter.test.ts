import test from 'ava';
import { readFileSync, readlinkSync, openSync, closeSync } from 'node:fs';
import { AT, CLONE, O, SyscallError, ValidationError } from '@nsk/syscall';
import { Plan, spawn, explainSpawn, num } from '@nsk/clone';
import { hostState, openFds, rootMap, testRootfs } from '@nsk/testkit';
import { enter, joinNamespaces } from '../src/index.ts';
import { box, enterSh, links, stop, NS_FILES, leftovers } from './helpers.ts';

const before = hostState();
test.after.always('nothing is left behind: no mounts, children or fds', (t) => {
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

const SHOW_NS = `for f in ${NS_FILES.join(' ')}; do echo "$f $(readlink /proc/self/ns/$f)"; done`;
const parseNs = (out: string) => Object.fromEntries(out.split('\n').filter((l) => /^\w+ \w+:\[\d+\]$/.test(l)).map((l) => l.split(' ') as [string, string]));

test('enter() joins every namespace of a container: /proc/self/ns/* equal the target’s, its hostname, a pid of its pid namespace', async (t) => {
  const c = await box({ hostname: 'nsk-enter-all' });
  try {
    const target = links(c.pid);
    const host = links('self');
    // The container differs from us in six kinds, so equality below is the join's doing.
    t.deepEqual(NS_FILES.filter((f) => target[f] !== host[f]), ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts']);
    const r = await enterSh({ pid: c.pid }, `${SHOW_NS}; echo "hostname $(hostname)"; echo "pid $$"; grep NSpid /proc/self/status`);
    t.is(r.status, 0);
    t.deepEqual(parseNs(r.stdout), target);
    t.regex(r.stdout, /^hostname nsk-enter-all$/m);
    const inner = Number(/^pid (\d+)$/m.exec(r.stdout)![1]);
    // The target is pid 1 of its namespace; the entered process is another member of it.
    t.not(inner, 1);
    t.not(inner, r.pid);
    // NSpid: its pid in each pid namespace, ours first, the container's last.
    t.deepEqual(/^NSpid:\s+(.*)$/m.exec(r.stdout)![1]!.split(/\s+/).map(Number), [r.pid, inner]);
  } finally {
    await stop(c);
  }
});

test('a container with its own user and time namespaces: uid 0 of its map, its clock offsets', async (t) => {
  // time_namespaces(7): unshare(CLONE_NEWTIME) gives the *children* a new
  // time namespace whose offsets may be set until a process is in it;
  // execve then moves the caller in.
  const plan = new Plan();
  plan.unshare(CLONE.NEWTIME);
  const fd = plan.openat(AT.FDCWD, '/proc/self/timens_offsets', O.WRONLY);
  plan.write(fd, 'monotonic 86400 0\nboottime 86400 0\n');
  plan.close(fd);
  const c = await box({ namespaces: ['user', ...['mount', 'uts', 'pid'] as const], features: [rootMap()], plan });
  try {
    const target = links(c.pid);
    t.not(target.user, links('self').user);
    t.not(target.time, links('self').time);
    const join = joinNamespaces({ pid: c.pid });
    join.close();
    t.deepEqual(join.joined.map((j) => `${j.type}:${j.how}`), ['user:child', 'ipc:already', 'uts:child', 'net:already', 'cgroup:already', 'time:child', 'mount:child', 'pid:parent']);
    t.true(join.needsPrivateMemory);
    const r = await enterSh({ pid: c.pid }, `${SHOW_NS}; echo "uid $(id -u) gid $(id -g)"; echo "uptime $(cut -d' ' -f1 /proc/uptime)"; echo "map $(cat /proc/self/uid_map)"`);
    t.is(r.status, 0);
    t.deepEqual(parseNs(r.stdout), target);
    t.regex(r.stdout, /^uid 0 gid 0$/m);
    t.regex(r.stdout, /^map\s+0\s+0\s+1$/m);
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const inside = Number(/^uptime ([\d.]+)$/m.exec(r.stdout)![1]);
    t.true(inside - hostUptime > 86000, `uptime inside ${inside}, outside ${hostUptime}`);
  } finally {
    await stop(c);
  }
});

test('time_namespaces(7): a child sharing Node’s memory cannot join a time namespace (EUSERS); the join plan asks for its own memory', async (t) => {
  const plan = new Plan();
  plan.unshare(CLONE.NEWTIME);
  const c = await box({ namespaces: ['pid'], plan });
  const fd = openSync(`/proc/${c.pid}/ns/time`, 'r');
  try {
    // A raw step, past Plan.setns (which asks for private memory itself).
    const raw = new Plan();
    raw.add('setns', [num(fd), num(CLONE.NEWTIME)], 'join the time namespace');
    const err = await t.throwsAsync(spawn({ argv: ['/bin/true'], plan: raw, shareMemory: true }), { instanceOf: SyscallError });
    t.is(err.errno, 'EUSERS');
    const typed = new Plan();
    typed.setns(fd, CLONE.NEWTIME);
    t.true(typed.needsPrivateMemory);
    const join = joinNamespaces({ pid: c.pid, namespaces: ['time'] });
    try {
      const p = new Plan();
      join.plan!(p);
      t.true(p.needsPrivateMemory);
      t.regex(explainSpawn({ argv: ['/bin/true'], features: [join] }), /setns\(\d+, (0|CLONE_NEWTIME)\) +# join the time namespace/);
    } finally {
      join.close();
    }
    const r = await enterSh({ pid: c.pid, namespaces: ['time'] }, 'readlink /proc/self/ns/time');
    t.is(r.stdout.trim(), readlinkSync(`/proc/${c.pid}/ns/time`));
  } finally {
    closeSync(fd);
    await stop(c);
  }
});

test('only the namespaces asked for are joined', async (t) => {
  const c = await box({ hostname: 'nsk-enter-uts' });
  try {
    const r = await enterSh({ pid: c.pid, namespaces: ['uts'] }, `${SHOW_NS}; hostname`);
    const seen = parseNs(r.stdout);
    t.is(seen.uts, links(c.pid).uts);
    const host = links('self');
    for (const f of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user'] as const) t.is(seen[f], host[f], f);
    t.regex(r.stdout, /^nsk-enter-uts$/m);
  } finally {
    await stop(c);
  }
});

test('a chroot’ed container is entered at its root and working directory (nsenter -r -w); root: false keeps the mount namespace’s root', async (t) => {
  const rootfs = testRootfs();
  const plan = new Plan();
  plan.chroot(rootfs);
  plan.chdir('/tmp');
  const c = await box({ plan });
  try {
    const inside = await enterSh({ pid: c.pid }, 'pwd; test -e /.nsk-rootfs && echo in-rootfs');
    t.is(inside.stdout, '/tmp\nin-rootfs\n');
    const outside = await enterSh({ pid: c.pid, root: false }, 'pwd; test -e /.nsk-rootfs || echo host-root');
    t.is(outside.stdout, `${rootfs}/tmp\nhost-root\n`);
    const there = await enterSh({ pid: c.pid, cwd: '/etc' }, 'pwd; cat hostname');
    t.is(there.stdout, '/etc\nnsk\n');
  } finally {
    await stop(c);
  }
});

test('namespace files can be joined instead of a process’s (nsenter --uts=FILE)', async (t) => {
  const c = await box({ hostname: 'nsk-by-file' });
  try {
    const r = await enterSh({ files: { uts: `/proc/${c.pid}/ns/uts` } }, 'hostname');
    t.is(r.stdout, 'nsk-by-file\n');
    const err = t.throws(() => joinNamespaces({ files: { net: `/proc/${c.pid}/ns/uts` } }), { instanceOf: ValidationError });
    t.is(err.field, 'files.net');
  } finally {
    await stop(c);
  }
});

test.serial('bad options fail before anything is opened; a missing process names the step', async (t) => {
  const fds = openFds();
  const invalid: Array<[object, string]> = [
    [{ pid: 0 }, 'pid'],
    [{ pid: 1.5 }, 'pid'],
    [{}, 'pid'],
    [{ pid: process.pid, namespaces: ['mnt'] }, 'namespaces'],
    [{ files: { uts: 'relative' } }, 'files.uts'],
    [{ files: { pid: '/x' }, namespaces: ['net'] }, 'namespaces'],
    [{ pid: process.pid, uid: -1 }, 'uid'],
    [{ pid: process.pid, uid: 5, preserveCredentials: true }, 'uid'],
  ];
  for (const [o, field] of invalid) {
    const err = await t.throwsAsync(enter({ ...o, argv: ['/bin/true'] }), { instanceOf: ValidationError }, JSON.stringify(o));
    t.is(err?.field, field);
  }
  const missing = await t.throwsAsync(enter({ pid: 0x3ffffff, argv: ['/bin/true'] }), { instanceOf: SyscallError });
  t.regex(missing.message, /join the namespaces of process 67108863/);
  t.is(missing.errno, 'ENOENT');
  t.deepEqual(openFds(), fds);
});

test.serial('after enter() no fd stays open, and Node’s main thread is back in its own pid namespace for children', async (t) => {
  const c = await box();
  try {
    const fds = openFds();
    const r = await enterSh({ pid: c.pid }, 'ls /proc/self/fd');
    // The child holds its stdout and stderr, and ls its directory (on the
    // free fd 0): the namespace fds were close-on-exec.
    t.deepEqual(r.stdout.trim().split('\n'), ['0', '1', '2']);
    t.deepEqual(openFds(), fds);
    t.is(readlinkSync('/proc/thread-self/ns/pid_for_children'), readlinkSync('/proc/self/ns/pid'));
    // A setns step that fails also leaves nothing behind, and names its step.
    const err = await t.throwsAsync(enter({ pid: c.pid, argv: ['/nonexistent'] }), { instanceOf: SyscallError });
    t.is(err.syscall, 'execve');
    t.deepEqual(openFds(), fds);
    t.is(readlinkSync('/proc/thread-self/ns/pid_for_children'), readlinkSync('/proc/self/ns/pid'));
  } finally {
    await stop(c);
  }
});
