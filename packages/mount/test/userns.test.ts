// rootfs() inside a user namespace, where the kernel adds rules: mount flags
// copied from the host are locked, sysfs needs a network namespace of the
// user namespace's own, mqueue an IPC namespace, proc a pid namespace and a
// proc still visible.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type Feature, type NamespaceName } from '@nsk/clone';
import { CLONE, MS, SyscallError } from '@nsk/syscall';
import { busyboxRootfs } from '@nsk/rootfs';
import { hostState, leftSince, rootMap, run } from '@nsk/testkit';
import { parseMountInfo, planBind, planPropagation, rootfs, tmpfs, unmount, type RootfsOptions } from '../src/index.ts';

const before = hostState();
const base = mkdtempSync(join(tmpdir(), 'nsk-mount-userns-'));
const root = busyboxRootfs(join(base, 'root'));
// A host directory on a nosuid,nodev,noexec mount, as /tmp or /home often are.
const locked = join(base, 'locked');
mkdirSync(locked);
tmpfs({ target: locked, flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, size: '1m' });
writeFileSync(join(locked, 'data'), 'host data\n');

test.after.always('nothing is left behind', (t) => {
  unmount(locked);
  rmSync(base, { recursive: true, force: true });
  const left = leftSince(before);
  // Only mounts under this file's directory count: the other test files,
  // running alongside in other processes, mount under theirs.
  t.deepEqual(left.mounts.filter((m) => m.startsWith(base)), []);
  t.deepEqual(left.children, []);
  t.deepEqual(left.fds, []);
});

const ALL: NamespaceName[] = ['user', 'pid', 'ipc', 'net', 'uts'];

function sh(script: string, o: Partial<RootfsOptions> = {}, namespaces = ALL) {
  return run({ argv: ['/bin/sh', '-c', script], namespaces, features: [rootMap(), rootfs({ path: root, ...o })] });
}

/** A child that must fail before execve: no stdio to capture. */
function start(o: Partial<RootfsOptions>, namespaces: NamespaceName[]) {
  return spawn({ argv: ['/bin/true'], stdio: [], namespaces, features: [rootMap(), rootfs({ path: root, ...o })] });
}

test('in a user namespace with its own pid, IPC and network namespaces, the whole rootfs is made', async (t) => {
  const r = await sh('id -u; cat /proc/self/uid_map; cat /proc/self/mountinfo', { readonly: true });
  t.is(r.code, 0, r.stderr);
  const [uid, map, ...rest] = r.stdout.trim().split('\n');
  t.is(uid, '0');
  t.regex(map!, /^\s*0\s+0\s+1$/);
  const points = parseMountInfo(rest.join('\n')).map((m) => m.mountPoint);
  for (const p of ['/', '/proc', '/sys', '/dev/pts', '/dev/mqueue', '/proc/sys', '/proc/timer_list', '/sys/firmware']) t.true(points.includes(p), p);
});

test('a read-only volume from a nosuid,nodev,noexec mount works in a user namespace: the locked flags are kept', async (t) => {
  const r = await sh('cat /data/data; touch /data/x; awk \'$5 == "/data" { print $6 }\' /proc/self/mountinfo', { volumes: [{ source: locked, target: '/data', readonly: true }] });
  t.is(r.stderr, 'touch: /data/x: Read-only file system\n');
  t.deepEqual(r.stdout.trim().split('\n'), ['host data', 'ro,nosuid,nodev,noexec,relatime']);
  t.is(readFileSync(join(locked, 'data'), 'utf8'), 'host data\n');
});

test('control: the same read-only remount without the source’s flags is refused (EPERM), as mount(2) says', async (t) => {
  const target = join(base, 'control-target');
  mkdirSync(target);
  const bare: Feature = {
    name: 'bare-bind',
    cloneFlags: CLONE.NEWNS,
    plan(plan) {
      planPropagation(plan, { target: '/', type: 'private' });
      planBind(plan, { source: locked, target, readonly: true, keep: 0 });
    },
  };
  const err = await t.throwsAsync(spawn({ argv: ['/bin/true'], stdio: [], namespaces: ['user'], features: [rootMap(), bare] }), { instanceOf: SyscallError });
  t.is(err.errno, 'EPERM');
  t.is(err.step, `make ${target} read-only`);
});

test('sysfs needs a network namespace of the user namespace’s own: without one the step fails with EPERM', async (t) => {
  const err = await t.throwsAsync(start({}, ['user', 'pid', 'ipc']), { instanceOf: SyscallError });
  t.is(err.errno, 'EPERM');
  t.regex(err.step!, /^mount a read-only sysfs on .*\/sys \(in a user namespace this needs a new network namespace\)$/);
});

test('sys: \'bind\' gives such a child the host’s /sys, read-only down to the mounts below it', async (t) => {
  const r = await sh('ls /sys/class/net; touch /sys/nsk-test; touch /sys/fs/cgroup/nsk-test; awk \'$5 ~ "^/sys" { print $5, substr($6, 1, 2) }\' /proc/self/mountinfo', { sys: 'bind' }, ['user', 'pid', 'ipc']);
  const lines = r.stdout.trim().split('\n');
  const host = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).filter(Boolean).map((l) => l.split(':')[0]!.trim()).sort();
  t.deepEqual(lines.slice(0, host.length).sort(), host, 'the host’s network devices');
  t.is(r.stderr, 'touch: /sys/nsk-test: Read-only file system\ntouch: /sys/fs/cgroup/nsk-test: Read-only file system\n');
  const mounts = lines.slice(host.length);
  t.true(mounts.length > 2, mounts.join('; '));
  t.deepEqual(mounts.filter((m) => !m.endsWith(' ro')), []);
});

test('mqueue in a user namespace needs a new IPC namespace: without one the step fails with EPERM', async (t) => {
  const err = await t.throwsAsync(start({}, ['user', 'pid', 'net']), { instanceOf: SyscallError });
  t.is(err.errno, 'EPERM');
  t.regex(err.step!, /message queues on .*\/dev\/mqueue$/);
});
