// Cgroup.open: a handle on a group another process made, to change its
// limits while its processes run. Read back from the group's own files.
import test from 'ava';
import { join } from 'node:path';
import { NskError, SyscallError, ValidationError } from '@nsk/syscall';
import { hostState, leftSince } from '@nsk/testkit';
import { Cgroup, detectLayout, restrictLayout } from '../src/index.ts';
import { alive, exists, leftoverGroups, read, spawnIn } from './helpers.ts';

const layout = detectLayout();
const before = hostState();
const MiB = 1 << 20;

test.after.always('no cgroup, process, mount or fd of this test is left', (t) => {
  t.deepEqual(leftoverGroups(), []);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

test.serial('open finds a group by name and parent, makes nothing, and set() changes the limits of its running process', async (t) => {
  const made = Cgroup.create({ layout, parent: `/nsk-${process.pid}-open`, name: 'box', limits: { pids: { max: 16 }, cpu: { quota: 20000, period: 50000 } } });
  const child = await spawnIn(made, ['/bin/busybox', 'sleep', '30']);
  try {
    const g = Cgroup.open({ layout, parent: `/nsk-${process.pid}-open`, name: 'box' });
    t.deepEqual(g.dirs, made.dirs);
    t.deepEqual(g.procs(), [child.pid]);
    g.set({ pids: { max: 7 }, cpu: { quota: 30000, period: 60000 } });
    const onV2 = (c: string) => layout.v2?.controllers.includes(c) ?? false;
    t.is(read(onV2('pids') ? join(g.v2Dir!, 'pids.max') : join(g.v1Dir('pids')!, 'pids.max')), '7');
    if (onV2('cpu')) t.is(read(join(g.v2Dir!, 'cpu.max')), '30000 60000');
    else t.deepEqual(['cpu.cfs_quota_us', 'cpu.cfs_period_us'].map((f) => read(join(g.v1Dir('cpu')!, f))), ['30000', '60000']);
    t.true(alive(child.pid), 'its process runs on');
  } finally {
    await made.kill();
    await child.exited;
    await made.delete();
  }
  for (const d of made.dirs) t.false(exists(d), d);
});

test.serial('open of a group that is not there fails and makes nothing; a name is required', (t) => {
  const err = t.throws(() => Cgroup.open({ layout, name: `nsk-${process.pid}-absent` }), { instanceOf: NskError });
  t.is(err.code, 'ERR_NSK_CGROUP_MISSING');
  t.regex(err.message, new RegExp(`nsk-${process.pid}-absent does not exist`));
  t.false(exists(join(layout.v1[0]?.mountPoint ?? layout.v2!.mountPoint, `nsk-${process.pid}-absent`)));
  t.throws(() => Cgroup.open({ layout }), { instanceOf: ValidationError, message: /name/ });
});

// memory.memsw.limit_in_bytes ≥ memory.limit_in_bytes at every moment (v1):
// raising both past the current memory+swap must write memory+swap first.
test.serial('v1: set() on a live group raises memory above the old memory+swap (memory+swap written first)', async (t) => {
  const v1 = restrictLayout(layout, 'v1');
  const g = Cgroup.create({ layout: v1, limits: { memory: { max: 32 * MiB, swap: 0 } } });
  try {
    const mem = g.v1Dir('memory')!;
    t.is(read(join(mem, 'memory.memsw.limit_in_bytes')), String(32 * MiB));
    const live = Cgroup.open({ layout: v1, name: g.name });
    live.set({ memory: { max: 64 * MiB, swap: 32 * MiB } });
    t.is(read(join(mem, 'memory.limit_in_bytes')), String(64 * MiB));
    t.is(read(join(mem, 'memory.memsw.limit_in_bytes')), String(96 * MiB));
    // And back down: the limit first again.
    live.set({ memory: { max: 16 * MiB, swap: 0 } });
    t.is(read(join(mem, 'memory.limit_in_bytes')), String(16 * MiB));
    t.is(read(join(mem, 'memory.memsw.limit_in_bytes')), String(16 * MiB));
    // A limit alone above memory+swap: the kernel's EINVAL, explained.
    const err = t.throws(() => live.set({ memory: { max: 64 * MiB } }), { instanceOf: SyscallError });
    t.is(err.errno, 'EINVAL');
    t.regex(err.message, /memory\.memsw\.limit_in_bytes/);
  } finally {
    await g.delete();
  }
});

// runc's `update --memory -1`: Infinity lifts a limit — v1 -1 (read back as
// the kernel's largest page count), pids "max", no CFS quota.
test.serial('set() with Infinity lifts limits of a live group; lifting memory lifts a memory+swap limit too', async (t) => {
  const v1 = restrictLayout(layout, 'v1');
  const g = Cgroup.create({ layout: v1, limits: { memory: { max: 32 * MiB, swap: 0 }, pids: { max: 10 }, cpu: { quota: 20000 } } });
  try {
    const live = Cgroup.open({ layout: v1, name: g.name });
    const mem = g.v1Dir('memory')!;
    const none = read(join(v1.v1.find((h) => h.controllers.includes('memory'))!.mountPoint, 'memory.limit_in_bytes'));
    live.set({ memory: { max: Infinity }, pids: { max: Infinity }, cpu: { quota: Infinity } });
    t.is(read(join(mem, 'memory.limit_in_bytes')), none);
    t.is(read(join(mem, 'memory.memsw.limit_in_bytes')), none, 'memory+swap may not stay below it');
    t.is(read(join(g.v1Dir('pids')!, 'pids.max')), 'max');
    t.is(read(join(g.v1Dir('cpu')!, 'cpu.cfs_quota_us')), '-1');
    // Limits again, then swap alone lifted.
    live.set({ memory: { max: 32 * MiB, swap: 0 } });
    live.set({ memory: { swap: Infinity } });
    t.is(read(join(mem, 'memory.limit_in_bytes')), String(32 * MiB));
    t.is(read(join(mem, 'memory.memsw.limit_in_bytes')), none);
    t.throws(() => live.set({ pids: { max: -1 } }), { instanceOf: ValidationError, message: /limits\.pids\.max/ });
  } finally {
    await g.delete();
  }
});
