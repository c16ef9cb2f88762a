// The default profile (profiles/default.json, ours) in a real container: a
// busybox shell session runs normally, and what the profile denies is
// denied — keyrings, namespaces, mounts, device nodes, AF_VSOCK, odd
// personalities — with EPERM, or ENOSYS for clone3.
import test from 'ava';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostArch } from '@nsk/syscall';
import { busyboxRootfs } from '@nsk/rootfs';
import { rootfs } from '@nsk/mount';
import { hostState, leftSince, run } from '@nsk/testkit';
import { compile, defaultProfile, seccomp, syscallNumber, type Filter } from '../src/index.ts';
import { call, sc } from './helpers.ts';

const before = hostState();
const base = mkdtempSync(join(tmpdir(), 'nsk-seccomp-default-'));
const root = busyboxRootfs(join(base, 'root'));
copyFileSync(sc(), join(root, 'bin/sc'));

test.after.always('nothing is left behind', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts.filter((m) => m.startsWith(base)), []);
  t.deepEqual(left.children, []);
  t.deepEqual(left.fds, []);
  rmSync(base, { recursive: true, force: true });
});

const filter: Filter = compile(defaultProfile());

/** `sh -c script` in a container with its own root, pid, uts, ipc and net, under the default profile. */
function inContainer(script: string, profile: Filter = filter) {
  return run({
    argv: ['/bin/sh', '-c', script],
    env: { PATH: '/bin:/sbin:/usr/bin:/usr/sbin' },
    namespaces: ['pid', 'uts', 'ipc', 'net'],
    features: [rootfs({ path: root, readonly: true }), seccomp(profile)],
  });
}

test('a busybox shell session runs normally under the default profile', async (t) => {
  const script = [
    'set -e',
    'cd /tmp',
    'echo hello > a && cat a',
    'mkdir -p d/e && mv a d/e/b && ls d/e',
    'cp d/e/b c && rm -r d && test ! -e d && echo removed',
    'ln -s /tmp/c l && readlink l',
    'chmod 640 c && stat -c %a c',
    'mkfifo f && test -p f && rm f && echo fifo',
    'printf "3\\n1\\n2\\n" | sort | tr "\\n" " " && echo',
    'echo $(( 6 * 7 ))',
    'sleep 0.1 & wait $! && echo waited',
    '(cd / && pwd)',
    "ps -o comm | grep -c '^ps$'",
    'id -u',
    'find /etc -name passwd',
    'timeout 2 sleep 0.05 && echo timed',
    'date +%Y | wc -c',
    'linux32 uname -m',
    'grep -c Seccomp /proc/self/status',
    'awk "/^Seccomp:/ {print \\$2}" /proc/self/status',
  ].join('\n');
  const r = await inContainer(script);
  t.is(r.stderr, '');
  t.is(r.code, 0);
  t.deepEqual(r.stdout.split('\n'), [
    'hello', 'b', 'removed', '/tmp/c', '640', 'fifo', '1 2 3 ', '42', 'waited', '/', '1', '0', '/etc/passwd', 'timed', '5',
    hostArch === 'x86_64' ? 'i686' : 'armv8l', '2', '2', '',
  ]);
});

test('the default profile denies namespaces, mounts, names, device nodes and keyrings with EPERM', async (t) => {
  const script = [
    'unshare -n true 2>&1',
    'unshare -U true 2>&1',
    'mount -t tmpfs none /tmp 2>&1',
    'hostname other 2>&1',
    'mknod /tmp/null c 1 3 2>&1',
    'mknod /tmp/fifo p && echo fifo allowed',
    'chroot / true && echo chroot allowed',
  ].join('; ');
  const r = await inContainer(script);
  const lines = r.stdout.trim().split('\n');
  t.is(lines.length, 7, r.stdout);
  // busybox mount words EPERM its own way.
  for (const l of lines.slice(0, 5)) t.regex(l, /Operation not permitted|permission denied/);
  t.is(lines[5], 'fifo allowed');
  t.is(lines[6], 'chroot allowed');
});

const nr = (name: string) => syscallNumber(name, hostArch)!;
const CLONE_NEWUSER = 0x10000000;
const SIGCHLD = 17;

test('calls denied by number and argument: keyctl, bpf, clone of a namespace, clone3, AF_VSOCK, personality', async (t) => {
  const r = await inContainer(`/bin/sc ${[
    call(nr('keyctl'), 0, 0xfffffffd), // KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING
    call(nr('add_key')),
    call(nr('bpf')),
    call(nr('perf_event_open')),
    call(nr('open_by_handle_at')),
    call(nr('fsopen')),
    call(nr('clone'), CLONE_NEWUSER | SIGCHLD),
    call(nr('unshare'), 0x20000), // CLONE_NEWNS
    call(nr('clone3')),
    call(nr('socket'), 40, 1, 0), // AF_VSOCK
    call(nr('personality'), 0x0400000), // READ_IMPLIES_EXEC
    call(nr('personality'), 0xffffffff), // the query: allowed
    call(nr('socket'), 1, 1, 0), // AF_UNIX: allowed
    call(nr('unshare'), 0x200), // CLONE_FS: allowed
  ].join(' ')}`);
  t.is(r.code, 0, r.stderr);
  const EPERM = { ret: -1, errno: 1 };
  const calls = r.stdout.trim().split('\n').map((l) => l.split(' ').map(Number));
  t.deepEqual(calls.slice(0, 11).map(([ret, errno]) => ({ ret, errno })), [EPERM, EPERM, EPERM, EPERM, EPERM, EPERM, EPERM, EPERM, { ret: -1, errno: 38 }, EPERM, EPERM]);
  t.deepEqual(calls.slice(11).map(([ret, errno]) => [ret! >= 0, errno]), [[true, 0], [true, 0], [true, 0]]);
});

test('with CAP_SYS_ADMIN in the capabilities, the administrator’s calls are allowed', async (t) => {
  const admin = compile(defaultProfile(), { capabilities: ['CAP_SYS_ADMIN'] });
  t.is(admin.verdict('mount').kind, 'allow');
  t.is(admin.verdict('clone', [CLONE_NEWUSER | SIGCHLD]).kind, 'allow');
  t.is(admin.verdict('keyctl').kind, 'errno', 'keyrings stay denied');
  t.is(filter.verdict('mount').kind, 'errno');
  const r = await inContainer('hostname other && hostname', admin);
  t.is(r.stdout, 'other\n');
});
