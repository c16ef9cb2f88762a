// (b) /proc: what the host's kernel shows and takes through /proc. runc's
// masked paths (/proc/keys, /proc/timer_list, /proc/kcore, …) read empty;
// its read-only paths (/proc/sys — kernel.core_pattern, the classic escape:
// a pipe there runs as root on the host at the next core dump —
// /proc/sysrq-trigger, /proc/irq, …) refuse writers; and no host process,
// nor the host's root through /proc/PID/root, is in reach (pid namespace).
// Writes are only ever attempted as open(O_WRONLY) with nothing written.
// The control: a process over the same rootfs with no pid namespace, no
// masks and root's powers (rootless: the host's /proc bound in; there the
// kernel itself still keeps /proc/PID/root of processes outside the user
// namespace closed — ptrace access needs CAP_SYS_PTRACE in theirs — so the
// rootless control shows the host's processes, not their files).
import test, { type ExecutionContext } from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { asNobody, makeLab } from './hardening-lab.ts';
import { hostPaths, mountsIn, SCENARIOS, type Seen } from './hardening-scenarios.ts';

const before = hostState();
const lab = makeLab();
const key = (p: string) => p.replace(/^\//, '').replace(/[^a-z0-9]+/gi, '_').toLowerCase();

test.after.always('nothing is left behind: no mount, no process', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});

interface R { paths: ReturnType<typeof hostPaths>; nsk: Seen; control: Seen }

function check(t: ExecutionContext, r: R, rootless: boolean) {
  const { paths, nsk, control } = r;
  t.log(`this kernel has: masked files ${paths.maskedFiles.join(' ')}; masked dirs ${paths.maskedDirs.join(' ')}; read-only ${paths.readonly.join(' ')}; attacked for writing ${paths.writable.join(' ')}`);
  t.true(paths.writable.includes('/proc/sys/kernel/core_pattern'));
  t.true(paths.maskedFiles.length > 0);

  t.is(nsk.status, 0, nsk.stderr);
  // Rootful, the read-only mount answers; rootless, the file's owner (the
  // host's root, unmapped) may answer first.
  for (const p of paths.writable) t.true((rootless ? ['EROFS', 'EACCES'] : ['EROFS']).includes(nsk.probe[`w_${key(p)}`]!), `open ${p} for writing: ${nsk.probe[`w_${key(p)}`]}`);
  for (const p of paths.maskedFiles) t.is(nsk.probe[`r_${key(p)}`], '0', `${p} reads empty`);
  t.is(nsk.probe.host_pid, 'ABSENT', 'the test process’s pid is not in the container’s /proc');
  t.is(nsk.probe.secret, 'ABSENT', 'no /proc/PID/root leads to the host’s files');
  t.true(nsk.probe.proc1_root_entries?.split(',').includes('payload'), '/proc/1/root is the container’s own root');
  const m = mountsIn(nsk.lines);
  for (const p of paths.readonly) t.true(m[p]?.options.includes('ro'), `${p} is mounted read-only`);
  for (const p of paths.maskedDirs) t.like(m[p], { fstype: 'tmpfs' }, `${p} is covered by an empty tmpfs`);
  for (const p of paths.maskedFiles) t.truthy(m[p], `${p} has /dev/null bound over it`);

  t.is(control.status, 0, control.stderr);
  t.is(control.probe.host_pid, 'VISIBLE', 'control: the host’s processes are in /proc');
  if (!rootless) {
    t.is(control.probe.secret, 'FOUND', 'control: the host’s files are reachable through /proc/PID/root');
    for (const p of paths.writable) t.is(control.probe[`w_${key(p)}`], 'OK', `control: ${p} opens for writing`);
    for (const p of paths.maskedFiles) t.not(control.probe[`r_${key(p)}`], '0', `control: ${p} has content`);
  }
}

test('rootful: masked /proc files read empty, /proc/sys and friends refuse writers, no host pid or root in reach; the control reaches all', async (t) => {
  check(t, (await SCENARIOS.proc!(lab, false, {})) as R, false);
});

test('rootless: the same, in a rootless container; the control (host /proc bound in) sees the host’s processes', async (t) => {
  check(t, await asNobody<R>(lab, 'proc'), true);
});
