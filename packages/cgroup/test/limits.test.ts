// The kernel enforcing the limits, observed through the group's own
// counters: CPU time, memory and OOM kills, pids, the CPUs it may run on.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from '@nsk/clone';
import { hostState, leftSince } from '@nsk/testkit';
import { cgroup, type Limits } from '../src/index.ts';
import { alive, leftoverGroups, read, sleep } from './helpers.ts';

const before = hostState();

test.after.always('no cgroup, process, mount or fd of this test is left', (t) => {
  t.deepEqual(leftoverGroups(), []);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

const BURN = ['/bin/busybox', 'sh', '-c', 'while :; do :; done'];

/** v2's core cpu.stat usage_usec of a directory, when the host has one. */
const v2Usage = (dir: string | null) => (dir ? Number(/usage_usec (\d+)/.exec(read(join(dir, 'cpu.stat')))![1]) : null);

/**
 * Runs a burner in a group with `limits` and measures its CPU use as the
 * group's usage counter delta over wall time (not by sampling the process).
 */
async function burn(limits: Limits, ms: number) {
  const box = cgroup({ limits, namespace: false });
  const child = await spawn({ argv: BURN, features: [box], stdio: [null, null, null] });
  try {
    await sleep(150);
    const g = box.group!;
    const u0 = g.stats().cpu!.usageUsec;
    const w0 = v2Usage(g.v2Dir);
    const t0 = performance.now();
    await sleep(ms);
    const u1 = g.stats().cpu!.usageUsec;
    const w1 = v2Usage(g.v2Dir);
    const wall = (performance.now() - t0) * 1000;
    return {
      percent: (100 * (u1 - u0)) / wall,
      v2Percent: w0 === null ? null : (100 * (w1! - w0)) / wall,
      throttled: g.stats().cpu!.throttledPeriods ?? 0,
    };
  } finally {
    await box.kill().catch(() => {});
    await child.exited;
  }
}

/**
 * Other work on this 2-CPU machine can only take CPU away from the burner,
 * so a reading below the expected band is measured again (up to 3 times);
 * one above it fails at once. The burner gets the highest weight, so it
 * wins contention against the rest of the machine: what is left to see is
 * the quota.
 */
async function measure(t: { log(...a: unknown[]): void }, limits: Limits, ms: number, low: number) {
  let last = await burn(limits, ms);
  t.log(`cpu ${JSON.stringify(limits.cpu)}: ${last.percent.toFixed(1)} %`);
  for (let i = 1; i < 3 && last.percent < low; i++) {
    last = await burn(limits, ms);
    t.log(`again: ${last.percent.toFixed(1)} %`);
  }
  return last;
}

test.serial('a 30 % quota (cpu.cfs_quota_us 30000 of 100000) holds a busy loop to 30 ± 5 % of one CPU, by the group’s usage counter', async (t) => {
  const r = await measure(t, { cpu: { quota: 30000, period: 100000, weight: 10000 } }, 2000, 25);
  t.true(r.percent >= 25 && r.percent <= 35, `${r.percent.toFixed(1)} %`);
  t.true(r.throttled > 0, 'the kernel throttled it (cpu.stat nr_throttled)');
  // On a hybrid host v2's core counts the same CPU time as v1's cpuacct.
  if (r.v2Percent !== null) t.true(Math.abs(r.v2Percent - r.percent) < 2, `v1 ${r.percent.toFixed(2)} % vs v2 ${r.v2Percent.toFixed(2)} %`);
});

test.serial('without a quota the same loop takes a whole CPU (100 ± 10 %)', async (t) => {
  const r = await measure(t, { cpu: { weight: 10000 } }, 2000, 90);
  t.true(r.percent >= 90 && r.percent <= 110, `${r.percent.toFixed(1)} %`);
  t.is(r.throttled, 0);
});

test.serial('a memory hog is OOM-killed at memory.max: SIGKILL, an OOM kill in the stats, and the peak never above the limit', async (t) => {
  const max = 32 << 20;
  const box = cgroup({ limits: { memory: { max, swap: 0 } } });
  // awk doubles a string until the kernel stops it.
  const child = await spawn({ argv: ['/bin/busybox', 'awk', 'BEGIN { s = "x"; while (1) s = s s }'], features: [box], stdio: [null, null, null] });
  const status = await child.exited;
  t.deepEqual(status, { code: null, signal: 'SIGKILL', status: 137 });
  const s = box.stats();
  t.true(s.oomKilled);
  t.true(s.memory!.oomKills >= 1, `oom kills ${s.memory!.oomKills}`);
  t.true(s.memory!.peak! <= max && s.memory!.peak! > max / 2, `peak ${s.memory!.peak}`);
  t.is(box.group, null);
});

test.serial('a fork bomb stops at pids.max: the group never holds more, forks fail, and the host can still start processes', async (t) => {
  const max = 32;
  const box = cgroup({ limits: { pids: { max } } });
  const child = await spawn({ argv: ['/bin/busybox', 'sh', '-c', 'b() { b & b & sleep 5; }; b & exec /bin/busybox sleep 600'], features: [box], stdio: [null, null, null], namespaces: ['pid'] });
  const seen: number[] = [];
  for (let i = 0; i < 10; i++) {
    await sleep(50);
    seen.push(box.stats().pids!.current);
  }
  const s = box.stats();
  t.true(Math.max(...seen) <= max, `pids.current ${seen.join(' ')}`);
  t.is(s.pids!.peak, max, 'the group reached its limit');
  t.true(s.pids!.forkFailures! > 0, `fork refused ${s.pids!.forkFailures} times`);
  t.is(execFileSync('/bin/busybox', ['echo', 'host ok']).toString(), 'host ok\n');
  const inside = box.group!.procs();
  await box.kill();
  t.is((await child.exited).signal, 'SIGKILL');
  for (const pid of inside) t.false(alive(pid));
});

test.serial('cpuset.cpus pins the group: the loop runs only on the CPU it was given', async (t) => {
  const box = cgroup({ limits: { cpuset: { cpus: '1' } } });
  const child = await spawn({ argv: BURN, features: [box], stdio: [null, null, null] });
  const cpus = new Set<number>();
  for (let i = 0; i < 10; i++) {
    await sleep(20);
    // proc(5): field 39 of /proc/PID/stat is the CPU it last ran on.
    cpus.add(Number(readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[36]));
  }
  t.regex(readFileSync(`/proc/${child.pid}/status`, 'utf8'), /^Cpus_allowed_list:\s+1$/m);
  t.deepEqual([...cpus], [1]);
  await box.kill();
  await child.exited;
});

test.serial('cpu weights share one contended CPU in their ratio (weight 100 against 300: about 1 to 3)', async (t) => {
  const boxes = [100, 300].map((weight) => cgroup({ limits: { cpu: { weight }, cpuset: { cpus: '0' } }, namespace: false }));
  const kids = await Promise.all(boxes.map((box) => spawn({ argv: BURN, features: [box], stdio: [null, null, null] })));
  await sleep(150);
  const u0 = boxes.map((b) => b.stats().cpu!.usageUsec);
  await sleep(1500);
  const used = boxes.map((b, i) => b.stats().cpu!.usageUsec - u0[i]!);
  for (const b of boxes) await b.kill();
  await Promise.all(kids.map((k) => k.exited));
  const ratio = used[1]! / used[0]!;
  t.log(`used ${used.join(' / ')} µs, ratio ${ratio.toFixed(2)}`);
  t.true(ratio > 2.4 && ratio < 3.6, `ratio ${ratio.toFixed(2)}`);
});
