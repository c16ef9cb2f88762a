// The v2 driver, driven alone (restrictLayout 'v2'). On a hybrid host its
// cgroup2 mount has few or no controllers, but the core of v2 — groups,
// cgroup.procs, cgroup.events, cgroup.freeze, cgroup.kill, cpu.stat's
// usage, subtree_control — works the same, and is what these tests observe.
// Limits are set for real wherever the mount offers their controller.
import test from 'ava';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { SyscallError } from '@nsk/syscall';
import { hostState, leftSince, run } from '@nsk/testkit';
import { Cgroup, CgroupUnavailableError, V2_CONTROLLER, cgroup, detectLayout, enableControllers, restrictLayout, v2Files, type Limits, type Resource } from '../src/index.ts';
import { alive, cgroupsOf, exists, leftoverGroups, read, sleep, spawnIn } from './helpers.ts';

const layout = restrictLayout(detectLayout(), 'v2');
const root = layout.v2!.mountPoint;
const before = hostState();

test.after.always('no cgroup, process, mount or fd of this test is left', (t) => {
  t.deepEqual(leftoverGroups(), []);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

const events = (dir: string) => Object.fromEntries(read(join(dir, 'cgroup.events')).split('\n').map((l) => l.split(' ')));

test.serial('a v2 group: the pid moves in, cgroup.events says populated, and cpu.stat counts its CPU time without any controller', async (t) => {
  const g = Cgroup.create({ layout });
  t.deepEqual(g.dirs, [join(root, g.name)]);
  t.deepEqual(events(g.v2Dir!), { populated: '0', frozen: '0' });
  const before = cgroupsOf('self');
  const child = await spawnIn(g, ['/bin/busybox', 'sh', '-c', 'while :; do :; done']);
  const where = cgroupsOf(child.pid);
  t.is(where[''], g.path);
  for (const [ctl, path] of Object.entries(before)) if (ctl !== '') t.is(where[ctl], path, `v1 ${ctl} untouched`);
  t.is(read(join(g.v2Dir!, 'cgroup.procs')), String(child.pid));
  t.is(events(g.v2Dir!).populated, '1');
  const a = g.stats().cpu!.usageUsec;
  await sleep(300);
  const b = g.stats().cpu!.usageUsec;
  t.true(b - a > 100_000, `it ran ${b - a} µs in 300 ms`);
  t.is(Number(/usage_usec (\d+)/.exec(read(join(g.v2Dir!, 'cpu.stat')))![1]) >= b, true);
  await g.kill();
  t.is(events(g.v2Dir!).populated, '0');
  t.is((await child.exited).signal, 'SIGKILL');
  await g.delete();
  t.false(exists(g.v2Dir!));
});

test.serial('freeze writes cgroup.freeze and waits for cgroup.events "frozen 1"; a frozen group uses no CPU; thaw undoes it', async (t) => {
  const g = Cgroup.create({ layout });
  const child = await spawnIn(g, ['/bin/busybox', 'sh', '-c', 'while :; do :; done']);
  await g.freeze();
  t.is(events(g.v2Dir!).frozen, '1');
  t.is(read(join(g.v2Dir!, 'cgroup.freeze')), '1');
  t.true(g.frozen());
  const a = g.stats().cpu!.usageUsec;
  await sleep(300);
  t.is(g.stats().cpu!.usageUsec, a);
  await g.thaw();
  t.is(events(g.v2Dir!).frozen, '0');
  await sleep(300);
  t.true(g.stats().cpu!.usageUsec > a + 50_000);
  // cgroup.kill reaches frozen tasks too.
  await g.freeze();
  await g.kill();
  t.is((await child.exited).signal, 'SIGKILL');
  await g.delete();
  t.false(exists(g.v2Dir!));
});

test.serial('cgroup.kill empties a group that keeps forking in one write, and delete removes the groups made inside it', async (t) => {
  const g = Cgroup.create({ layout });
  const child = await spawnIn(g, ['/bin/busybox', 'sh', '-c', 'while :; do /bin/busybox sleep 5 & /bin/busybox sleep 0.01; done']);
  // A container with its own cgroup namespace may make groups of its own.
  mkdirSync(join(g.v2Dir!, 'inner'));
  await sleep(300);
  const inside = g.procs();
  t.true(inside.length > 5, `it forked (${inside.length})`);
  await g.kill();
  t.is(events(g.v2Dir!).populated, '0');
  for (const pid of inside) t.false(alive(pid), `pid ${pid}`);
  t.is((await child.exited).signal, 'SIGKILL');
  await g.delete();
  t.false(exists(join(g.v2Dir!, 'inner')));
  t.false(exists(g.v2Dir!));
});

const SAMPLE: Record<Resource, Limits> = {
  cpu: { cpu: { quota: 30000, weight: 50 } },
  cpuset: { cpuset: { cpus: '0', mems: '0' } },
  memory: { memory: { max: 64 << 20, swap: 0 } },
  pids: { pids: { max: 20 } },
  io: { io: { weight: 200 } },
  hugetlb: { hugetlb: { '2MB': 4 << 20 } },
};

test.serial('each limit is written in v2 format where the mount offers its controller, and refused before anything is made where it does not', async (t) => {
  for (const [resource, limits] of Object.entries(SAMPLE) as Array<[Resource, Limits]>) {
    if (layout.v2!.controllers.includes(V2_CONTROLLER[resource])) {
      const g = Cgroup.create({ layout, limits });
      for (const w of v2Files(limits)) {
        if (w.optional && !exists(join(g.v2Dir!, w.file))) continue; // a kernel before the file
        const file = exists(join(g.v2Dir!, w.file)) ? w.file : w.fallback!.file;
        t.is(read(join(g.v2Dir!, file)).split('\n')[0], file === w.file ? w.value : w.fallback!.value, `${resource}: ${file}`);
      }
      await g.delete();
    } else {
      const name = `nsk-${process.pid}-no-${resource}`;
      const err = t.throws(() => Cgroup.create({ layout, name, limits }), { instanceOf: CgroupUnavailableError });
      t.is(err.feature, V2_CONTROLLER[resource]);
      t.regex(err.message, new RegExp(`cannot set ${resource} limits on this v2 host: the cgroup2 mount at ${root} offers`));
      t.throws(() => cgroup({ layout, name, limits }), { instanceOf: CgroupUnavailableError });
      t.false(exists(join(root, name)));
    }
  }
  t.deepEqual(leftoverGroups(), []);
});

test.serial('controllers reach a group through each ancestor’s cgroup.subtree_control; a parent holding processes may not pass them on', async (t) => {
  const offered = layout.v2!.controllers;
  t.true(offered.length > 0, `the cgroup2 root offers a controller (${offered.join(' ')})`);
  const c = offered[0]!;
  const outer = Cgroup.create({ layout, name: `nsk-${process.pid}-outer` });
  try {
    const got = enableControllers(root, `${outer.name}/inner`, [c]);
    t.deepEqual(got, [c]);
    t.true(read(join(root, 'cgroup.subtree_control')).split(/\s+/).includes(c));
    t.true(read(join(outer.v2Dir!, 'cgroup.subtree_control')).split(/\s+/).includes(c));
    mkdirSync(join(outer.v2Dir!, 'inner'));
    t.true(read(join(outer.v2Dir!, 'inner', 'cgroup.controllers')).split(/\s+/).includes(c), `inner has ${c}`);
    // No internal processes: a group with a process cannot enable controllers for children.
    const busy = Cgroup.create({ layout, name: `nsk-${process.pid}-busy` });
    const child = await spawnIn(busy, ['/bin/busybox', 'sleep', '30']);
    const err = t.throws(() => enableControllers(root, `${busy.name}/x`, [c]), { instanceOf: SyscallError });
    t.is(err.errno, 'EBUSY');
    t.regex(err.message, /no internal processes/);
    await busy.kill();
    await child.exited;
    await busy.delete();
    // An unknown controller is refused by name.
    t.throws(() => enableControllers(root, `${outer.name}/inner2`, ['nsk-no-such']), { instanceOf: CgroupUnavailableError, message: /nsk-no-such/ });
  } finally {
    await outer.delete();
  }
  // The root keeps it enabled, as the library leaves it (README, "Hybrid
  // hosts"): taking it back would strip it from every other group below —
  // hugetlb.test.ts's, running beside this file, among them.
  t.true(read(join(root, 'cgroup.subtree_control')).split(/\s+/).includes(c));
});

test.serial('with its namespace, a container on the v2 side sees its group as "0::/"; the host sees the real path', async (t) => {
  const box = cgroup({ layout });
  let hostView = '';
  const r = await run({ argv: ['/bin/busybox', 'sh', '-c', 'cat /proc/self/cgroup; sleep 0.2'], features: [box] }, (child) => {
    hostView = cgroupsOf(child.pid)['']!;
  });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^0::\/$/m);
  t.is(hostView, box.path);
  t.is(box.group, null);
  t.false(exists(join(root, box.path)));
});
