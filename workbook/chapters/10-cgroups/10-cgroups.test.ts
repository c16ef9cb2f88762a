// The chapter's claims, on the same data `run` prints.
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { detectLayout, parseProcCgroup } from '@nsk/cgroup';
import { hostState, leftSince } from '@nsk/testkit';
import { burnCpu, cgroupView, forkBomb, memoryHog, type CpuReading } from './index.ts';

const before = hostState();

/** Directories of this process's groups (nsk-PID-N) in any hierarchy. */
function groupsLeft(): string[] {
  const l = detectLayout();
  const roots = [...l.v1.map((h) => h.mountPoint), ...(l.v2 ? [l.v2.mountPoint] : [])];
  return roots.flatMap((r) => readdirSync(r).filter((n) => n.startsWith(`nsk-${process.pid}-`)).map((n) => join(r, n)));
}

test.after.always('no cgroup, process, mount or fd is left', (t) => {
  t.deepEqual(groupsLeft(), []);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

/**
 * Another process on the machine can only take CPU from the loop, never
 * give it more: a reading below the band is measured again, up to 3 times;
 * one above it fails at once.
 */
async function reading(t: { log(...a: unknown[]): void }, quota: number | null, low: number): Promise<CpuReading> {
  let r = await burnCpu(quota, 3);
  t.log(`quota ${quota ?? 'none'}: ${r.percent.toFixed(1)} % (${r.usageUsec} µs in ${Math.round(r.wallUsec)} µs)`);
  for (let i = 1; i < 3 && r.percent < low; i++) {
    r = await burnCpu(quota, 3);
    t.log(`again: ${r.percent.toFixed(1)} %`);
  }
  return r;
}

test.serial('the container sees its group as / in every hierarchy; the host sees the real path', async (t) => {
  const v = await cgroupView();
  const inside = parseProcCgroup(v.container);
  t.true(inside.length > 0);
  for (const l of inside) t.is(l.path, '/');
  const host = parseProcCgroup(v.host);
  t.true(host.filter((l) => l.path === v.path).length >= 2, v.host);
  t.true(host.some((l) => l.id === 0 && l.path === v.path) || detectLayout().v2 === null);
});

test.serial('a busy loop limited to 30 % uses 30 ± 5 % of a CPU over 3 s, by the group’s usage counter', async (t) => {
  const r = await reading(t, 30000, 25);
  t.true(r.percent >= 25 && r.percent <= 35, `${r.percent.toFixed(1)} %`);
  t.true(r.throttledPeriods >= 20, `throttled in ${r.throttledPeriods} of ~30 periods`);
});

test.serial('unlimited, the same loop takes a whole CPU (100 ± 10 %)', async (t) => {
  const r = await reading(t, null, 90);
  t.true(r.percent >= 90 && r.percent <= 110, `${r.percent.toFixed(1)} %`);
  t.is(r.throttledPeriods, 0);
});

test.serial('a memory hog is OOM-killed at its limit, and the runtime says so', async (t) => {
  const r = await memoryHog(32 << 20);
  t.is(r.status.signal, 'SIGKILL');
  t.is(r.status.status, 137);
  t.true(r.stats.oomKilled);
  t.true(r.stats.memory!.oomKills >= 1);
  t.true(r.stats.memory!.peak! <= r.limit);
});

test.serial('a fork bomb stops at pids.max, the host can still start processes, and killing the group ends it', async (t) => {
  const r = await forkBomb(32);
  t.true(Math.max(...r.samples) <= 32, r.samples.join(' '));
  t.is(r.peak, 32);
  t.true(r.forkFailures > 0);
  t.is(r.hostSpawn, 'the host can still start processes');
  t.is(r.status.signal, 'SIGKILL');
});
