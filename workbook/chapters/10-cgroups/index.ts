// Chapter 10: cgroups. Namespaces decide what a process can see; control
// groups decide how much it may use. The seeds' experiment, done by writing
// the cgroup filesystem ourselves instead of cgcreate/cgset/cgexec: a busy
// loop held to 30 % of a CPU, a memory hog OOM-killed at its limit, a fork
// bomb stopped at its pids limit — each measured with the group's own
// counters.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { spawn, type ExitStatus } from '@nsk/clone';
import { cgroup, detectLayout, planLimits, type CgroupStats, type Layout, type Limits } from '@nsk/cgroup';
import { defineChapter } from '../../src/chapter.ts';
import { run } from '../../src/lab.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BURNER = ['/bin/busybox', 'sh', '-c', 'while :; do :; done'];

/** This host's hierarchies, one line each. */
export function describeLayout(layout: Layout = detectLayout()): string {
  const lines = [`layout: ${layout.kind}`];
  for (const h of layout.v1) lines.push(`v1  ${h.mountPoint.padEnd(28)} ${h.controllers.join(',')}`);
  if (layout.v2) lines.push(`v2  ${layout.v2.mountPoint.padEnd(28)} controllers: ${layout.v2.controllers.join(' ') || '(none)'}`);
  return lines.join('\n');
}

/** The files a limit becomes on this host (v1 cpu.cfs_quota_us …, or v2 cpu.max …). */
export function filesFor(limits: Limits, layout: Layout = detectLayout()): string[] {
  const plan = planLimits(layout, limits);
  return [...plan.v1.map((w) => `${w.controller}/…/${w.file} ← ${w.value}`), ...plan.v2.map((w) => `…/${w.file} ← ${w.value}`)];
}

export interface CgroupView {
  /** The group's path as the host's /proc/PID/cgroup shows it. */
  path: string;
  /** /proc/PID/cgroup read by the host. */
  host: string;
  /** /proc/self/cgroup read inside (its own cgroup namespace). */
  container: string;
}

/** A container reads its /proc/self/cgroup while the host reads the same process's. */
export async function cgroupView(): Promise<CgroupView> {
  const box = cgroup();
  let host = '';
  const r = await run({ argv: ['/bin/busybox', 'sh', '-c', 'cat /proc/self/cgroup; sleep 0.3'], features: [box] }, async (child) => {
    await sleep(100);
    host = readFileSync(`/proc/${child.pid}/cgroup`, 'utf8');
  });
  if (r.status !== 0) throw new Error(`the container exited ${r.status}: ${r.stderr}`);
  return { path: box.path, host, container: r.stdout };
}

export interface CpuReading {
  /** CPU time over wall time, in % of one CPU. */
  percent: number;
  usageUsec: number;
  wallUsec: number;
  /** Periods in which the kernel throttled the group (cpu.stat nr_throttled). */
  throttledPeriods: number;
}

/**
 * Runs a busy loop for `seconds` with a quota of `quota` µs per 100 ms (none
 * if null) and measures the group's CPU usage counter (v1 cpuacct.usage, v2
 * cpu.stat usage_usec) over wall time. The loop gets the highest CPU
 * weight, so that other work on the machine cannot take its share: what is
 * left to see is the quota.
 */
export async function burnCpu(quota: number | null, seconds = 3): Promise<CpuReading> {
  const box = cgroup({ limits: { cpu: { weight: 10000, ...(quota === null ? {} : { quota, period: 100000 }) } }, namespace: false });
  const child = await spawn({ argv: BURNER, features: [box], stdio: [null, null, null] });
  try {
    await sleep(150);
    const u0 = box.stats().cpu!.usageUsec;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const s = box.stats();
    const wallUsec = (performance.now() - t0) * 1000;
    const usageUsec = s.cpu!.usageUsec - u0;
    return { percent: (100 * usageUsec) / wallUsec, usageUsec, wallUsec, throttledPeriods: s.cpu!.throttledPeriods ?? 0 };
  } finally {
    await box.kill();
    await child.exited;
  }
}

export interface OomResult {
  status: ExitStatus;
  stats: CgroupStats;
  limit: number;
}

/** busybox awk doubles a string until the kernel stops it at `limit` bytes. */
export async function memoryHog(limit = 32 << 20): Promise<OomResult> {
  const box = cgroup({ limits: { memory: { max: limit, swap: 0 } } });
  const child = await spawn({ argv: ['/bin/busybox', 'awk', 'BEGIN { s = "x"; while (1) s = s s }'], features: [box], stdio: [null, null, null] });
  const status = await child.exited;
  // The group is gone; the feature kept the stats it read just before.
  return { status, stats: box.stats(), limit };
}

export interface ForkBombResult {
  limit: number;
  /** pids.current, sampled while the bomb ran. */
  samples: number[];
  /** pids.peak: the most tasks the group ever held. */
  peak: number;
  /** Forks the kernel refused (pids.events max). */
  forkFailures: number;
  /** What the host printed when it started a process meanwhile. */
  hostSpawn: string;
  status: ExitStatus;
}

/**
 * A fork bomb, b() { b & b & sleep 5; }, started by a pid 1 that then
 * becomes `sleep` (so it survives the bomb, and reaps no one: every orphan
 * stays a zombie, holding its pid). The group's pids.max is `limit`; at the
 * end the group is killed, and with its pid 1 the whole pid namespace.
 */
export async function forkBomb(limit = 32): Promise<ForkBombResult> {
  const box = cgroup({ limits: { pids: { max: limit } } });
  const child = await spawn({ argv: ['/bin/busybox', 'sh', '-c', 'b() { b & b & sleep 5; }; b & exec /bin/busybox sleep 600'], namespaces: ['pid'], features: [box], stdio: [null, null, null] });
  try {
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) {
      await sleep(50);
      samples.push(box.stats().pids!.current);
    }
    const hostSpawn = execFileSync('/bin/busybox', ['echo', 'the host can still start processes']).toString().trim();
    const s = box.stats().pids!;
    await box.kill();
    return { limit, samples, peak: s.peak ?? Math.max(...samples), forkFailures: s.forkFailures ?? 0, hostSpawn, status: await child.exited };
  } finally {
    await box.kill();
    await child.exited;
  }
}

export default defineChapter({
  n: 10,
  slug: 'cgroups',
  title: 'Control groups: how much a container may use',
  titleKo: '컨트롤 그룹: 컨테이너가 쓸 수 있는 양',
  async run(show) {
    show.step('This host’s cgroup hierarchies');
    show.code(describeLayout());
    show.say('A group is a directory, made in each hierarchy; a process joins it when its pid is written to cgroup.procs. nsk writes the pid while the child still waits at its first plan step, before execve, so the container’s first instruction already runs inside.');

    show.step('The container’s own view: a cgroup namespace');
    const v = await cgroupView();
    show.sideBySide({ host: `/proc/PID/cgroup\n${v.host}`, container: `/proc/self/cgroup\n${v.container}` });
    show.say(`The host sees ${v.path}; the container, which unshared CLONE_NEWCGROUP after it was moved, sees its group as /.`);

    show.step('A busy loop, without and with a 30 % quota (3 s each)');
    show.code(filesFor({ cpu: { quota: 30000, period: 100000 } }).join('\n'));
    const free = await burnCpu(null);
    const held = await burnCpu(30000);
    show.sideBySide({
      host: `no quota\nCPU: ${free.percent.toFixed(1)} % of one CPU\n(${Math.round(free.usageUsec / 1000)} ms in ${Math.round(free.wallUsec / 1000)} ms)\nthrottled periods: ${free.throttledPeriods}`,
      container: `quota 30000 µs per 100000 µs\nCPU: ${held.percent.toFixed(1)} % of one CPU\n(${Math.round(held.usageUsec / 1000)} ms in ${Math.round(held.wallUsec / 1000)} ms)\nthrottled periods: ${held.throttledPeriods}`,
    });

    show.step('A memory hog at a 32 MiB limit');
    const oom = await memoryHog();
    show.code(`exit: ${oom.status.signal ?? oom.status.code}\npeak: ${oom.stats.memory!.peak} bytes (limit ${oom.limit})\nOOM kills: ${oom.stats.memory!.oomKills} → oomKilled: ${oom.stats.oomKilled}`);

    show.step('A fork bomb at pids.max 32');
    const bomb = await forkBomb();
    show.code(`pids.current while it ran: ${bomb.samples.join(' ')}\npids.peak: ${bomb.peak}\nforks refused: ${bomb.forkFailures}\nhost: ${bomb.hostSpawn}\nafter killing the group: ${bomb.status.signal}`);
  },
});
