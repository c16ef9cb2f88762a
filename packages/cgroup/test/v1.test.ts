// The v1 driver, driven alone (restrictLayout 'v1'): what a pure v1 host
// does. Every claim is read back from the v1 hierarchies' own files.
import test from 'ava';
import { join } from 'node:path';
import { SyscallError } from '@nsk/syscall';
import { hostState, leftSince } from '@nsk/testkit';
import { Cgroup, CgroupTimeoutError, CgroupUnavailableError, detectLayout, restrictLayout } from '../src/index.ts';
import { alive, cgroupsOf, exists, leftoverGroups, read, sleep, spawnIn } from './helpers.ts';

const layout = restrictLayout(detectLayout(), 'v1');
const before = hostState();

test.after.always('no cgroup, process, mount or fd of this test is left', (t) => {
  t.deepEqual(leftoverGroups(), []);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

test.serial('a v1 group is a directory in each controller’s hierarchy, and each limit lands in its controller’s file', async (t) => {
  const g = Cgroup.create({ layout, limits: { cpu: { quota: 30000, period: 50000, weight: 200 }, cpuset: { cpus: '0', mems: '0' }, memory: { max: 64 << 20, swap: 0 }, pids: { max: 16 }, io: { weight: 300 } } });
  const d = (c: string) => g.v1Dir(c)!;
  t.deepEqual(g.dirs.map((x) => x.slice(0, x.lastIndexOf('/'))).sort(), layout.v1.filter((h) => h.controllers.some((c) => ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'blkio'].includes(c))).map((h) => h.mountPoint).sort());
  for (const dir of g.dirs) t.true(exists(dir), dir);
  t.is(read(join(d('cpu'), 'cpu.cfs_period_us')), '50000');
  t.is(read(join(d('cpu'), 'cpu.cfs_quota_us')), '30000');
  t.is(read(join(d('cpu'), 'cpu.shares')), '2048');
  t.is(read(join(d('cpuset'), 'cpuset.cpus')), '0');
  t.is(read(join(d('memory'), 'memory.limit_in_bytes')), String(64 << 20));
  t.is(read(join(d('memory'), 'memory.memsw.limit_in_bytes')), String(64 << 20));
  t.is(read(join(d('pids'), 'pids.max')), '16');
  t.is(read(join(d('blkio'), 'blkio.bfq.weight')), '300');
  t.is(g.v2Dir, null);
  await g.delete();
  for (const dir of g.dirs) t.false(exists(dir), dir);
});

test.serial('attach puts a process in the group in every v1 hierarchy; freeze stops its CPU use and thaw resumes it', async (t) => {
  const g = Cgroup.create({ layout });
  const child = await spawnIn(g, ['/bin/busybox', 'sh', '-c', 'while :; do :; done']);
  const where = cgroupsOf(child.pid);
  for (const h of layout.v1) if (g.v1Dir(h.controllers[0]!)) t.is(where[h.controllers.join(',')], g.path, h.mountPoint);
  t.is(where[''], cgroupsOf('self')[''], 'the v2 hierarchy is not touched by the v1 driver');
  t.deepEqual(g.procs(), [child.pid]);
  await g.freeze();
  t.is(read(join(g.v1Dir('freezer')!, 'freezer.state')), 'FROZEN');
  const a = g.stats().cpu!.usageUsec;
  await sleep(300);
  t.is(g.stats().cpu!.usageUsec, a, 'a frozen group uses no CPU');
  await g.thaw();
  t.is(read(join(g.v1Dir('freezer')!, 'freezer.state')), 'THAWED');
  await sleep(300);
  t.true(g.stats().cpu!.usageUsec > a + 50_000, 'thawed, it runs again');
  await g.kill();
  t.deepEqual(await child.exited, { code: null, signal: 'SIGKILL', status: 137 });
  await g.delete();
  for (const dir of g.dirs) t.false(exists(dir), dir);
});

test.serial('kill empties a group whose processes keep forking: freeze, SIGKILL each pid, thaw, until cgroup.procs is empty', async (t) => {
  const g = Cgroup.create({ layout, limits: { pids: { max: 1000 } } });
  // A shell that never stops starting children, each living 5 s.
  const child = await spawnIn(g, ['/bin/busybox', 'sh', '-c', 'while :; do /bin/busybox sleep 5 & /bin/busybox sleep 0.01; done']);
  await sleep(400);
  const inside = g.procs();
  t.true(inside.length > 5, `it forked (${inside.length} processes)`);
  await g.kill();
  t.deepEqual(g.procs(), []);
  for (const pid of inside) t.false(alive(pid), `pid ${pid} is dead`);
  t.is((await child.exited).signal, 'SIGKILL');
  await g.delete();
  for (const dir of g.dirs) t.false(exists(dir), dir);
});

test.serial('a limit the kernel refuses undoes the group in every hierarchy (a child quota above its parent’s: EINVAL)', async (t) => {
  const parent = Cgroup.create({ layout, name: `nsk-${process.pid}-tight`, limits: { cpu: { quota: 1000 } } });
  const err = t.throws(() => Cgroup.create({ layout, parent: parent.path, name: 'wide', limits: { pids: { max: 5 }, cpu: { quota: 50000 } } }), { instanceOf: SyscallError });
  t.is(err.errno, 'EINVAL');
  t.is(err.path, join(parent.v1Dir('cpu')!, 'wide', 'cpu.cfs_quota_us'));
  t.regex(err.message, /set cpu\.cfs_quota_us to 50000.*parent/);
  for (const dir of parent.dirs) t.false(exists(join(dir, 'wide')), join(dir, 'wide'));
  await parent.delete();
  t.deepEqual(leftoverGroups(), []);
});

test.serial('delete waits for the group to empty, or gives up after its timeout leaving the group intact', async (t) => {
  const g = Cgroup.create({ layout, timeoutMs: 300 });
  const child = await spawnIn(g, ['/bin/busybox', 'sleep', '30']);
  await t.throwsAsync(g.delete(), { instanceOf: CgroupTimeoutError, message: /emptying before removal.*did not happen within 300 ms/ });
  for (const dir of g.dirs) t.true(exists(dir));
  const g2 = Cgroup.create({ layout });
  g2.attach(child.pid);
  t.deepEqual(g.procs(), []);
  const deleting = g2.delete();
  await sleep(100);
  t.true(exists(g2.dirs[0]!), 'still waiting while the process lives');
  child.kill('SIGKILL');
  await Promise.all([deleting, child.exited]);
  for (const dir of g2.dirs) t.false(exists(dir));
  await g.delete();
});

test.serial('levels made for a group’s parent are removed with it; levels that existed are left alone', async (t) => {
  const outer = Cgroup.create({ layout, name: `nsk-${process.pid}-outer` });
  const g = Cgroup.create({ layout, parent: `${outer.path}/inner` });
  t.is(g.path, `/nsk-${process.pid}-outer/inner/${g.name}`);
  for (const dir of g.dirs) t.true(exists(dir));
  await g.delete();
  for (const dir of outer.dirs) {
    t.false(exists(join(dir, 'inner')));
    t.true(exists(dir));
  }
  await outer.delete();
  t.deepEqual(leftoverGroups(), []);
});

test.serial('without a freezer hierarchy, kill loops SIGKILL over cgroup.procs until it is empty, and freeze says what is missing', async (t) => {
  const noFreezer = { ...layout, v1: layout.v1.filter((h) => !h.controllers.includes('freezer')) };
  const g = Cgroup.create({ layout: noFreezer, limits: { pids: { max: 1000 } } });
  t.is(g.v1Dir('freezer'), null);
  await t.throwsAsync(g.freeze(), { instanceOf: CgroupUnavailableError, message: /freezer/ });
  const child = await spawnIn(g, ['/bin/busybox', 'sh', '-c', 'while :; do /bin/busybox sleep 5 & /bin/busybox sleep 0.01; done']);
  await sleep(300);
  const inside = g.procs();
  t.true(inside.length > 5, `it forked (${inside.length} processes)`);
  await g.kill();
  t.deepEqual(g.procs(), []);
  for (const pid of inside) t.false(alive(pid), `pid ${pid} is dead`);
  t.is((await child.exited).signal, 'SIGKILL');
  await g.delete();
  for (const dir of g.dirs) t.false(exists(dir), dir);
});
