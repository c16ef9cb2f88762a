// (f) cgroups. The container sees its own group as / (cgroup namespace:
// no host path in /proc/self/cgroup); it cannot mount cgroupfs (the
// CVE-2022-0492 escape mounted cgroup v1 to write release_agent, a program
// the host's kernel runs as root) nor reach the host's cgroup.procs to move
// itself out of its group; and a pids limit stops a fork bomb (a bounded
// one: 64 forks against a limit of 16). Controls: root's powers back (the
// mount works, the namespace still hides the host's paths), no cgroup
// namespace (the host's paths show), no pids limit (all 64 forks succeed).
// release_agent is never written, not even in a control.
import test, { type ExecutionContext } from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { asNobody, makeLab } from './hardening-lab.ts';
import { SCENARIOS, type Refused, type Seen } from './hardening-scenarios.ts';

const before = hostState();
const lab = makeLab();

test.after.always('nothing is left behind: no mount, no process', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});

interface R { host: string[]; nsk: Seen; control: Seen; bare: Seen | null }

const cgroupLines = (s: Seen) => s.lines.filter((l) => /^\d+:[^:]*:\//.test(l));
const paths = (lines: readonly string[]) => lines.map((l) => l.split(':').slice(2).join(':'));

function check(t: ExecutionContext, r: R, rootless: boolean) {
  t.is(r.nsk.status, 0, r.nsk.stderr);
  const inside = cgroupLines(r.nsk);
  t.true(inside.length >= 2, inside.join('\n'));
  t.deepEqual([...new Set(paths(inside))], ['/'], 'every hierarchy shows / inside, before and after the attempts');
  t.is(r.nsk.probe.cg1, 'EPERM', 'mount -t cgroup');
  t.is(r.nsk.probe.cg2, 'EPERM', 'mount -t cgroup2');
  for (const [k, v] of Object.entries(r.nsk.probe).filter(([k]) => k.startsWith('w_'))) t.not(v, 'OK', `${k}: the host's cgroup files are out of reach`);
  const hostView = r.nsk.seen as string[];
  if (!rootless) t.notDeepEqual(hostView, r.host, 'the host sees the container in a group of its own');

  t.is(r.control.status, 0, r.control.stderr);
  if (!rootless) t.is(r.control.probe.cg1, 'OK', 'control: with CAP_SYS_ADMIN and no filter, cgroupfs mounts');
  t.deepEqual([...new Set(paths(cgroupLines(r.control)))], ['/'], 'control: the namespace still shows / only');
  if (r.bare) {
    const bare = paths(cgroupLines(r.bare));
    t.true(bare.some((p) => p !== '/'), `control without a cgroup namespace: host paths show (${bare.join(' ')})`);
  }
}

test('rootful: / in every hierarchy inside, no cgroupfs mount, no host cgroup.procs; the controls show the mount and the host paths', async (t) => {
  check(t, (await SCENARIOS.cgroups!(lab, false, {})) as R, false);
});

test('rootless: / in every hierarchy inside, no cgroupfs mount, no host cgroup.procs', async (t) => {
  check(t, await asNobody<R>(lab, 'cgroups'), true);
});

interface Bomb { nsk: Seen | Refused; control: Seen }

test('rootful: 64 forks against pidsLimit 16: at most 15 children, then EAGAIN; without a limit all 64', async (t) => {
  const r = (await SCENARIOS.forkbomb!(lab, false, {})) as Bomb;
  t.false('refused' in r.nsk, JSON.stringify(r.nsk));
  const nsk = r.nsk as Seen;
  t.true(Number(nsk.probe.forked) <= 15 && Number(nsk.probe.forked) > 0, `forked ${nsk.probe.forked}`);
  t.is(nsk.probe.fork_error, 'EAGAIN');
  t.is(r.control.probe.forked, '64');
  t.is(r.control.probe.fork_error, 'none');
});

test('rootless: a pids limit holds the same fork bomb, or is refused before anything starts — never silently ignored', async (t) => {
  const r = await asNobody<Bomb>(lab, 'forkbomb');
  if ('refused' in r.nsk) {
    t.log(`rootless pidsLimit refused: ${r.nsk.refused.name}: ${r.nsk.refused.message}`);
    t.regex(r.nsk.refused.message, /cgroup|pids/i);
  } else {
    t.true(Number(r.nsk.probe.forked) <= 15, `forked ${r.nsk.probe.forked}`);
    t.is(r.nsk.probe.fork_error, 'EAGAIN');
  }
  t.is(r.control.probe.forked, '64');
});
