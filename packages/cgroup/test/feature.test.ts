// The cgroup Feature on this host's full layout: attach before exec, the
// cgroup namespace, and cleanup on every way a container can end.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { explainSpawn, spawn, type Feature } from '@nsk/clone';
import { SyscallError, ValidationError } from '@nsk/syscall';
import { hostState, leftSince, nsInode, run } from '@nsk/testkit';
import { Cgroup, cgroup, detectLayout, parseProcCgroup, type CgroupFeature } from '../src/index.ts';
import { alive, cgroupsOf, exists, leftoverGroups, sleep } from './helpers.ts';

const layout = detectLayout();
const before = hostState();

test.after.always('no cgroup, process, mount or fd of this test is left', (t) => {
  t.deepEqual(leftoverGroups(), []);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

/** Hierarchies (by their /proc/PID/cgroup key) where a group of this layout is made. */
function groupKeys(g: Cgroup): string[] {
  return parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'))
    .filter((l) => (l.id === 0 ? g.v2Dir !== null : l.controllers.some((c) => g.v1Dir(c) !== null)))
    .map((l) => l.controllers.join(','));
}

/** A feature that notes the group's directories while the child waits (a short-lived child may be gone before spawn resolves). */
function grab(box: CgroupFeature, into: string[]): Feature {
  return { name: 'grab', parent() { into.push(...box.group!.dirs); } };
}

test.serial('the parent hook puts the child in its group in every hierarchy while it still waits, before it execs', async (t) => {
  const box = cgroup();
  const seen: Array<{ exe: string; where: Record<string, string> }> = [];
    let keys: string[] = [];
  const probe: Feature = {
    name: 'probe',
    parent({ pid }) {
      seen.push({ exe: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!, where: cgroupsOf(pid) });
      keys = groupKeys(box.group!);
    },
  };
  const r = await run({ argv: ['/bin/busybox', 'true'], features: [box, probe] });
  t.is(r.status, 0);
  const [s] = seen;
  // Still this Node process's image: execve has not happened yet.
  t.is(s!.exe, readFileSync('/proc/self/cmdline', 'utf8').split('\0')[0]!);
  t.true(keys.length >= 2, keys.join(' '));
  for (const k of keys) t.is(s!.where[k], box.path, `hierarchy ${k || 'v2'}`);
});

test.serial('with the namespace (the default) the container sees its group as "/" in every hierarchy; without it, the real path', async (t) => {
  const box = cgroup();
  let keys: string[] = [];
  let host: Record<string, string> = {};
  let ns = 0;
  const inside = await run({ argv: ['/bin/busybox', 'sh', '-c', 'cat /proc/self/cgroup; sleep 0.3'], features: [box] }, async (child) => {
    await sleep(100);
    keys = groupKeys(box.group!);
    host = cgroupsOf(child.pid);
    ns = nsInode(child.pid, 'cgroup');
  });
  t.is(inside.status, 0, inside.stderr);
  const lines = parseProcCgroup(inside.stdout);
  t.true(lines.length > 0);
  for (const l of lines) t.is(l.path, '/', `inside: ${l.id}:${l.controllers.join(',')}`);
  for (const k of keys) t.is(host[k], box.path, `host: ${k || 'v2'}`);
  t.not(ns, nsInode('self', 'cgroup'));

  const plain = cgroup({ namespace: false });
  const outside = await run({ argv: ['/bin/busybox', 'cat', '/proc/self/cgroup'], features: [plain] });
  const seen = Object.fromEntries(parseProcCgroup(outside.stdout).map((l) => [l.controllers.join(','), l.path]));
  for (const k of keys) t.is(seen[k], plain.path, `no namespace: ${k || 'v2'}`);
});

test('the plan unshares CLONE_NEWCGROUP only after the wait for the parent (a namespace made at clone would be rooted at the old group)', (t) => {
  const text = explainSpawn({ argv: ['/bin/true'], features: [cgroup()] });
  const wait = text.indexOf('wait for the parent');
  const unshare = text.indexOf('CLONE_NEWCGROUP');
  t.true(wait >= 0 && unshare > wait, text);
  t.notRegex(text.split('\n').find((l) => l.startsWith('clone('))!, /NEWCGROUP/);
});

test.serial('when the container exits the group is removed everywhere, and stats() still gives the last reading', async (t) => {
  const box = cgroup({ limits: { pids: { max: 10 }, memory: { max: 32 << 20 } } });
  const dirs: string[] = [];
  const r = await run({ argv: ['/bin/busybox', 'sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; /bin/busybox true; echo ok'], features: [box, grab(box, dirs)] });
  t.is(r.stdout, 'ok\n');
  t.is(box.group, null);
  t.true(dirs.length > 0);
  for (const d of dirs) t.false(exists(d), d);
  const s = box.stats();
  t.true(s.cpu!.usageUsec > 1000, `cpu ${s.cpu!.usageUsec} µs`);
  t.true(s.memory!.peak! > 0);
  t.is(s.pids!.peak, 2, 'the shell and its one child');
  t.false(s.oomKilled);
});

test.serial('a container killed from outside leaves no group', async (t) => {
  const box = cgroup();
  const child = await spawn({ argv: ['/bin/busybox', 'sleep', '30'], features: [box] });
  const dirs = box.group!.dirs;
  child.kill('SIGKILL');
  t.is((await child.exited).signal, 'SIGKILL');
  for (const d of dirs) t.false(exists(d), d);
});

test.serial('a process the container left behind is killed with the group (no pid namespace kills it for us)', async (t) => {
  const box = cgroup();
  const dirs: string[] = [];
  const r = await run({ argv: ['/bin/busybox', 'sh', '-c', '/bin/busybox sleep 30 </dev/null >/dev/null 2>&1 & echo $!'], features: [box, grab(box, dirs)] });
  const orphan = Number(r.stdout.trim());
  t.true(orphan > 0);
  t.false(alive(orphan), 'the sleep it started is dead');
  for (const d of dirs) t.false(exists(d), d);
});

test.serial('freeze, thaw and kill through the feature reach every process of the container', async (t) => {
  const box = cgroup();
  const child = await spawn({ argv: ['/bin/busybox', 'sh', '-c', 'while :; do :; done'], features: [box], stdio: [null, null, null] });
  await box.freeze();
  t.true(box.group!.frozen());
  const a = box.stats().cpu!.usageUsec;
  await sleep(200);
  t.is(box.stats().cpu!.usageUsec, a);
  await box.thaw();
  t.false(box.group!.frozen());
  await box.kill();
  t.is((await child.exited).signal, 'SIGKILL');
  t.is(box.group, null);
});

test.serial('a start that fails halfway leaves no group: a missing program, a later feature’s parent hook, a limit the kernel refuses', async (t) => {
  const missing = cgroup();
  await t.throwsAsync(spawn({ argv: ['/nonexistent/nsk'], features: [missing] }), { instanceOf: SyscallError, message: /execve/ });
  t.is(missing.group, null);

  const hooked = cgroup();
  const broken: Feature = { name: 'broken', parent() { throw new Error('veth went missing'); } };
  await t.throwsAsync(spawn({ argv: ['/bin/busybox', 'sleep', '30'], features: [hooked, broken] }), { message: 'veth went missing' });
  t.is(hooked.group, null);

  // cgroup v1 refuses a child quota above its parent's (EINVAL) after the
  // group was made in every hierarchy: all of it must go.
  const tight = Cgroup.create({ name: `nsk-${process.pid}-tight`, limits: { cpu: { quota: 1000 } } });
  const refused = cgroup({ parent: tight.path, name: 'wide', limits: { pids: { max: 5 }, cpu: { quota: 90000 } } });
  const err = await t.throwsAsync(spawn({ argv: ['/bin/busybox', 'true'], features: [refused] }), { instanceOf: SyscallError });
  t.is(err.errno, 'EINVAL');
  for (const d of tight.dirs) t.false(exists(join(d, 'wide')), join(d, 'wide'));
  await tight.delete();
  t.deepEqual(leftoverGroups(), []);
});

test('limits out of range are refused by cgroup() itself, before any group or process exists', (t) => {
  const kids = hostState().children.length;
  const cases: Array<[object, RegExp]> = [
    [{ memory: { max: -64 } }, /limits\.memory\.max/],
    [{ cpu: { quota: 500 } }, /limits\.cpu\.quota: must be between 1000/],
    [{ cpuset: { cpus: '0-63' } }, /limits\.cpuset\.cpus: .* not online/],
  ];
  for (const [limits, message] of cases) {
    t.throws(() => cgroup({ name: `nsk-${process.pid}-invalid`, limits: limits as never }), { instanceOf: ValidationError, message });
  }
  t.throws(() => cgroup({ name: '../escape' }), { instanceOf: ValidationError, message: /^name:/ });
  t.throws(() => cgroup({ name: 'cpu.max' }), { instanceOf: ValidationError, message: /clash with a control file/ });
  t.throws(() => cgroup({ parent: 'relative' }), { instanceOf: ValidationError, message: /^parent:/ });
  t.deepEqual(leftoverGroups(`nsk-${process.pid}-invalid`), []);
  t.is(hostState().children.length, kids);
  t.is(layout.kind, detectLayout().kind);
});
