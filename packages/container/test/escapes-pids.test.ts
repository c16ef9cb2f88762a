// (i) Host processes: a container that could see a host process could
// signal it, or ptrace(2) it and run code in it (Docker's default profile
// allows ptrace since kernel 4.8: the pid namespace is the defence). A host
// `sleep` is the victim: from inside, kill(pid, 0) and PTRACE_ATTACH find no
// such process (ESRCH), even with root's powers back, and /proc lists only
// the container's own. The control, with no pid namespace, sees and
// signals it, and rootful attaches to it (then detaches).
import test, { type ExecutionContext } from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { asNobody, makeLab } from './hardening-lab.ts';
import { SCENARIOS, type Seen } from './hardening-scenarios.ts';

const before = hostState();
const lab = makeLab();

test.after.always('nothing is left behind: no mount, no process', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});

interface R { victim: number; victimAlive: boolean; nsk: Seen; privileged: Seen; control: Seen }

const list = (s: string | undefined) => (s ?? '').split(',').filter(Boolean);

function check(t: ExecutionContext, r: R, rootless: boolean) {
  t.true(r.victimAlive, 'the victim outlived every attempt');
  for (const [name, s] of [['defaults', r.nsk], ['every capability, seccomp unconfined', r.privileged]] as const) {
    t.is(s.status, 0, s.stderr);
    t.is(s.probe.ptrace_attach, 'ESRCH', `${name}: ptrace of host pid ${r.victim}`);
    t.is(s.probe.kill0, 'ESRCH', `${name}: kill of host pid ${r.victim}`);
    t.false(list(s.probe.pids).includes(String(r.victim)), `${name}: /proc has no host pid`);
    t.deepEqual(list(s.probe.comms).filter((c) => c === 'MainThread' || c === 'node' || c === 'sleep'), [], `${name}: no host program in /proc`);
    t.true(list(s.probe.pids).every((p) => Number(p) < 100), `${name}: only the container's own pids`);
  }
  t.is(r.control.status, 0, r.control.stderr);
  t.is(r.control.probe.kill0, 'OK', 'control: the host process can be signalled');
  t.true(list(r.control.probe.comms).includes('sleep'), 'control: host programs in /proc');
  t.true(list(r.control.probe.pids).includes(String(r.victim)), 'control: the victim’s pid in /proc');
  // Rootless, ptrace of a process in the host's user namespace needs
  // CAP_SYS_PTRACE there (cap_ptrace_access_check): EPERM even in the control.
  t.is(r.control.probe.ptrace_attach, rootless ? 'EPERM' : 'OK', 'control: ptrace');
}

test('rootful: a host process cannot be seen, signalled or traced, even with root’s powers back; without a pid namespace it can', async (t) => {
  check(t, (await SCENARIOS.pids!(lab, false, {})) as R, false);
});

test('rootless: a host process of the same user cannot be seen, signalled or traced; without a pid namespace it is signalled', async (t) => {
  check(t, await asNobody<R>(lab, 'pids'), true);
});
