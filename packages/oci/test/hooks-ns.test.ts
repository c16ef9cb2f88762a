// config.json as runtime-spec says it: hook timing and namespaces
// (config.md "POSIX-platform Hooks"), `cgroup` mounts in a cgroup
// namespace, and new namespaces beside a joined user namespace owned by it.
import test from 'ava';
import { chmodSync, existsSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { O, syscall } from '@nsk/syscall';
import { spawn, type Child } from '@nsk/clone';
import { user } from '@nsk/user';
import { hostState, leftSince, testRootfs } from '@nsk/testkit';
import { baseConfig, bundle, rt, stateRoot } from './bundle.ts';

const root = stateRoot();
const before = hostState();
const work = mkdtempSync(join(tmpdir(), 'nsk-oci-hooks-ns-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));
const status = (id: string) => JSON.parse(rt(root, ['state', id]).stdout) as { status: string; pid: number };
const ns = (pid: number | string, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);
const cgroupDirsOf = (id: string) => ['pids', 'memory', 'devices', 'freezer'].map((h) => `/sys/fs/cgroup/${h}/nsk-runtime/${id}`);
const dead = (pid: number) => { try { return /^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; } };
const linux = (over: Record<string, unknown>) => ({ ...(baseConfig(['true']).linux as object), ...over });
/** Mount points (field 5) of a mountinfo text. */
const mountPointsOf = (text: string) => text.trim().split('\n').map((l) => l.split(' ')[4]!);
/** A copy of the busybox rootfs that this file may add files to. */
const rootfsCopy = (name: string) => { const d = join(work, name); execFileSync('cp', ['-a', testRootfs(), d]); return d; };
const script = (path: string, body: string) => { writeFileSync(path, `#!/bin/sh\n${body}\n`); chmodSync(path, 0o755); return path; };
const ids = ['hooked', 'hookfail', 'hookpath', 'cgmount', 'joinuser'];

test.serial('createRuntime and createContainer run before pivot_root; createContainer in the container’s namespaces with its path on the host; startContainer’s path inside', (t) => {
  const rootfs = rootfsCopy('hooked-rootfs');
  const out = join(work, 'hooked');
  // Only inside the container: startContainer's path resolves there.
  const insideName = `/nsk-start-hook-${process.pid}.sh`;
  script(join(rootfs, insideName), 'cat > /tmp/start.state; readlink /proc/self/ns/mnt > /tmp/start.mnt');
  t.false(existsSync(insideName));
  // On the host only (not in the rootfs): createRuntime and createContainer.
  const pidOf = `sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p'`;
  const prestart = script(join(work, 'prestart.sh'), `echo prestart >> ${out}.order`);
  const createRuntime = script(join(work, 'create-runtime.sh'), [
    `cat > ${out}.cr.state; echo createRuntime >> ${out}.order`,
    `readlink /proc/self/ns/mnt > ${out}.cr.mnt`,
    `cat /proc/$(${pidOf} ${out}.cr.state)/mountinfo > ${out}.cr.mountinfo`,
  ].join('\n'));
  const createContainer = script(join(work, 'create-container.sh'), [
    `cat > ${out}.cc.state; echo createContainer >> ${out}.order`,
    `readlink /proc/self/ns/mnt > ${out}.cc.mnt`,
    `readlink /proc/self/ns/net > ${out}.cc.net`,
    `cat /proc/self/mountinfo > ${out}.cc.mountinfo`,
  ].join('\n'));
  t.false(existsSync(join(rootfs, createContainer)), 'the createContainer hook is not in the rootfs');
  const b = bundle(baseConfig(['sleep', '30'], {
    root: { path: rootfs, readonly: true },
    hooks: { prestart: [{ path: prestart }], createRuntime: [{ path: createRuntime }], createContainer: [{ path: createContainer }], startContainer: [{ path: insideName }] },
  }));
  const c = rt(root, ['create', '--bundle', b, 'hooked']);
  t.is(c.code, 0, c.stderr);
  const pid = status('hooked').pid;
  t.deepEqual(readFileSync(`${out}.order`, 'utf8').trim().split('\n'), ['prestart', 'createRuntime', 'createContainer']);

  // createRuntime: the runtime's namespace, the container not pivoted yet.
  t.is(readFileSync(`${out}.cr.mnt`, 'utf8').trim(), ns('self', 'mnt'));
  t.like(JSON.parse(readFileSync(`${out}.cr.state`, 'utf8')), { id: 'hooked', status: 'creating', pid, bundle: b });
  const crMounts = mountPointsOf(readFileSync(`${out}.cr.mountinfo`, 'utf8'));
  t.true(crMounts.includes(rootfs) && crMounts.includes(`${rootfs}/proc`), 'at createRuntime the container’s mounts are made under the rootfs path, not pivoted');

  // createContainer: the container's namespaces, the host's files, before pivot_root.
  t.is(readFileSync(`${out}.cc.mnt`, 'utf8').trim(), ns(pid, 'mnt'));
  t.is(readFileSync(`${out}.cc.net`, 'utf8').trim(), ns(pid, 'net'));
  t.not(ns(pid, 'mnt'), ns('self', 'mnt'));
  const ccMounts = mountPointsOf(readFileSync(`${out}.cc.mountinfo`, 'utf8'));
  t.true(ccMounts.includes(rootfs), 'the rootfs is still a mount below the host’s /, not the root');
  t.true(ccMounts.includes(`${rootfs}/proc`) && ccMounts.includes(`${rootfs}/dev`), 'the config’s mounts are made');
  // runtime.md "State": in the container namespace, "the pid as seen by the container".
  t.like(JSON.parse(readFileSync(`${out}.cc.state`, 'utf8')), { id: 'hooked', status: 'creating', pid: 1, bundle: b });
  // After create, the container has pivoted: / is the rootfs.
  const after = mountPointsOf(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
  t.false(after.includes(rootfs));
  t.true(after.includes('/proc'));

  // startContainer: inside the container, path and all.
  t.is(rt(root, ['start', 'hooked']).code, 0);
  t.is(readFileSync(`/proc/${pid}/root/tmp/start.mnt`, 'utf8').trim(), ns(pid, 'mnt'));
  t.like(JSON.parse(readFileSync(`/proc/${pid}/root/tmp/start.state`, 'utf8')), { id: 'hooked', pid: 1 });
  t.is(rt(root, ['delete', '-f', 'hooked']).code, 0);
});

test.serial('a failing createContainer hook fails create and leaves no process, cgroup, state or mount', (t) => {
  const out = join(work, 'hookfail');
  const record = script(join(work, 'record-pid.sh'), `cat > ${out}.state`);
  const b = bundle(baseConfig(['sleep', '30'], { hooks: { createRuntime: [{ path: record }], createContainer: [{ path: '/bin/false', args: ['false'] }] } }));
  const r = rt(root, ['create', '--bundle', b, 'hookfail']);
  t.is(r.code, 1);
  t.regex(r.stderr, /hooks\.createContainer\[0\] \/bin\/false: exit 1/);
  const pid = (JSON.parse(readFileSync(`${out}.state`, 'utf8')) as { pid: number }).pid;
  t.true(pid > 0);
  t.true(dead(pid), 'the container process is gone');
  t.false(existsSync(join(root, 'hookfail')), 'no state directory');
  t.false(cgroupDirsOf('hookfail').some(existsSync), 'no cgroup');
  t.deepEqual(leftSince(before).mounts, []);
});

test.serial('a createContainer path that exists only inside the rootfs is not found: it resolves in the runtime namespace', (t) => {
  const rootfs = rootfsCopy('hookpath-rootfs');
  const insideName = `/nsk-create-hook-${process.pid}.sh`;
  script(join(rootfs, insideName), 'exit 0');
  t.false(existsSync(insideName));
  const b = bundle(baseConfig(['true'], { root: { path: rootfs, readonly: true }, hooks: { createContainer: [{ path: insideName }] } }));
  const r = rt(root, ['create', '--bundle', b, 'hookpath']);
  t.is(r.code, 1);
  t.regex(r.stderr, new RegExp(`hooks\\.createContainer\\[0\\] ${insideName}: .*ENOENT`));
  t.false(existsSync(join(root, 'hookpath')));
  t.false(cgroupDirsOf('hookpath').some(existsSync));
});

test.serial('a cgroup mount in a cgroup namespace: the host’s hierarchies, rooted at the container’s cgroup, read-only', (t) => {
  const base = baseConfig(['sh', '-c', [
    'ls /sys/fs/cgroup', 'echo ---', 'cat /proc/self/cgroup', 'echo ---', 'cat /sys/fs/cgroup/pids/pids.max', 'echo ---',
    'echo 5 > /sys/fs/cgroup/pids/pids.max && echo written || echo refused',
    'mkdir /sys/fs/cgroup/pids/sub && echo made || echo refused',
    'mkdir /sys/fs/cgroup/new && echo made || echo refused',
  ].join('; ')]);
  const b = bundle({
    ...base,
    mounts: [...(base.mounts as object[]), { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] }],
    linux: linux({ resources: { devices: [{ allow: false, access: 'rwm' }], pids: { limit: 77 } } }),
  });
  const r = rt(root, ['run', '--bundle', b, 'cgmount']);
  t.is(r.code, 0, r.stderr);
  const [ls, cgroup, max, writes] = r.stdout.trim().split('---\n').map((s) => s.trim().split('\n'));
  // Every hierarchy the host mounts under /sys/fs/cgroup.
  const hostHierarchies = readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').map((l) => l.split(' '))
    .filter((f) => /^\/sys\/fs\/cgroup\/[^/]+$/.test(f[4]!) && /^cgroup2?$/.test(f[f.indexOf('-') + 1]!)).map((f) => f[4]!.split('/').pop()!).sort();
  t.deepEqual(ls!.sort(), hostHierarchies);
  t.true(cgroup!.length >= hostHierarchies.length - 1);
  // cgroup_namespaces(7): the paths are relative to the namespace's root, the container's cgroup.
  t.deepEqual(cgroup!.filter((l) => !l.endsWith(':/')), [], cgroup!.join('\n'));
  t.deepEqual(max, ['77']);
  t.deepEqual(writes, ['refused', 'refused', 'refused']);
  t.regex(r.stderr, /Read-only file system/);
  t.false(existsSync(join(root, 'cgmount')));
});

/** NS_GET_USERNS (ioctl_ns(2)): the inode of the user namespace owning the namespace at `path`. */
function owner(path: string): number {
  const fd = openSync(path, O.RDONLY | O.CLOEXEC);
  try {
    const userFd = syscall('ioctl', fd, 0xb701);
    try { return readlinkInode(`/proc/self/fd/${userFd}`); } finally { closeSync(userFd); }
  } finally {
    closeSync(fd);
  }
}
const readlinkInode = (p: string) => Number(/\[(\d+)\]$/.exec(readlinkSync(p))![1]);

let holder: Child | null = null;

test.serial('new namespaces beside a joined user namespace are owned by it (NS_GET_USERNS); a new pid namespace there is refused', async (t) => {
  // A user namespace (root inside is uid 100000 outside) and a pid
  // namespace it owns, with a process in them: a pod's infra container.
  const map = [{ inside: 0, outside: 100000, count: 65536 }];
  holder = await spawn({ argv: ['/bin/busybox', 'sleep', '60'], namespaces: ['pid'], features: [user({ uidMap: map, gidMap: map })] });
  const userPath = `/proc/${holder.pid}/ns/user`;
  const userIno = readlinkInode(userPath);
  t.is(owner(`/proc/${holder.pid}/ns/pid`), userIno);
  const joined = [{ type: 'user', path: userPath }, { type: 'pid', path: `/proc/${holder.pid}/ns/pid` }];
  // Root inside is uid 100000 outside: the rootfs must be reachable by it.
  chmodSync(work, 0o711);
  const rootfs = rootfsCopy('joinuser-rootfs');
  const b = bundle(baseConfig(['sleep', '30'], { root: { path: rootfs, readonly: true }, linux: linux({ namespaces: [...joined, ...['network', 'ipc', 'uts', 'mount', 'cgroup'].map((type) => ({ type }))] }) }));
  // Created: proc, sysfs and mqueue were mounted, the hostname set — each
  // needs CAP_SYS_ADMIN in the user namespace owning the pid, network, IPC
  // or UTS namespace, and the mounts in the owner of the mount namespace.
  const c = rt(root, ['create', '--bundle', b, 'joinuser']);
  t.is(c.code, 0, c.stderr);
  const pid = status('joinuser').pid;
  t.is(readlinkInode(`/proc/${pid}/ns/user`), userIno, 'the container is in the joined user namespace');
  t.is(ns(pid, 'pid'), ns(holder.pid, 'pid'));
  for (const kind of ['net', 'uts', 'ipc', 'mnt', 'cgroup']) {
    t.not(ns(pid, kind), ns(holder.pid, kind), `${kind}: a new one`);
    t.is(owner(`/proc/${pid}/ns/${kind}`), userIno, `${kind}: owned by the joined user namespace`);
  }
  t.is(readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).join(' '), '0 100000 65536');
  t.is(rt(root, ['delete', '-f', 'joinuser']).code, 0);

  // pid_namespaces(7): only a fork after unshare(CLONE_NEWPID) is in the new one.
  const refused = bundle(baseConfig(['true'], { linux: linux({ namespaces: [joined[0], ...['pid', 'network', 'ipc', 'uts', 'mount'].map((type) => ({ type }))] }) }));
  const r = rt(root, ['create', '--bundle', refused, 'joinuser']);
  t.is(r.code, 1);
  t.regex(r.stderr, /linux\.namespaces\[1\]: a new pid namespace beside a user namespace joined by path/);
  t.false(existsSync(join(root, 'joinuser')));
  t.false(cgroupDirsOf('joinuser').some(existsSync));
});

test.after.always('nothing left behind', async (t) => {
  for (const id of readdirSync(root)) rt(root, ['delete', '-f', id]);
  if (holder) { holder.kill('SIGKILL'); await holder.exited; }
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(readdirSync(root), []);
  t.false(ids.flatMap(cgroupDirsOf).some(existsSync));
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});
