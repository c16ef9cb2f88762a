// The file formats of the two cgroup versions, as pure functions: which
// file takes which value for a limit, and how stats files read. No I/O here,
// so every translation is tested without root (test/format.test.ts).
//
//   limit            cgroup v1 (controller: file)              cgroup v2
//   cpu quota/period cpu: cpu.cfs_period_us, cpu.cfs_quota_us   cpu.max "quota period"
//   cpu weight       cpu: cpu.shares (weight × 1024 / 100)      cpu.weight
//   cpuset           cpuset: cpuset.cpus, cpuset.mems           cpuset.cpus, cpuset.mems
//   memory max       memory: memory.limit_in_bytes              memory.max
//   memory swap      memory: memory.memsw.limit_in_bytes (=max+swap)  memory.swap.max (=swap)
//   pids max         pids: pids.max                             pids.max
//   io weight        blkio: blkio.bfq.weight (1…1000)           io.weight, else io.bfq.weight
//   huge pages       hugetlb: hugetlb.<size>[.rsvd].limit_in_bytes  hugetlb.<size>.max, .rsvd.max
import { CPU_PERIOD_DEFAULT, UNLIMITED, type Limits } from './limits.ts';

// No limit: v1's files take -1 (memory, cpu quota, hugetlb; pids.max takes
// "max"), v2's take "max" (cgroup-v2.rst, "Interface Files").
const v1Value = (n: number) => (n === UNLIMITED ? '-1' : String(n));
const v2Value = (n: number) => (n === UNLIMITED ? 'max' : String(n));

export interface FileWrite {
  /** The controller whose hierarchy (v1) or whose files (v2) this belongs to. */
  readonly controller: string;
  readonly file: string;
  readonly value: string;
  /** Tried when `file` does not exist (another I/O scheduler's file, say). */
  readonly fallback?: { readonly file: string; readonly value: string };
  /** Written only where the kernel has the file (hugetlb's rsvd files came with Linux 5.7). */
  readonly optional?: boolean;
}

// kernel/sched/core.c: cpu.weight is stored as a scheduler weight of
// weight × 1024 / 100 (rounded to the closest), and read back the other way;
// v1's cpu.shares is that scheduler weight itself.
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** v2 cpu.weight (1…10000, default 100) → v1 cpu.shares (2…262144, default 1024). */
export function weightToShares(weight: number): number {
  return clamp(Math.round((weight * 1024) / 100), 2, 262144);
}

/** v1 cpu.shares → v2 cpu.weight. */
export function sharesToWeight(shares: number): number {
  return clamp(Math.round((shares * 100) / 1024), 1, 10000);
}

/** io.weight (1…10000) → BFQ's weight (1…1000, default 100 in both). */
export function ioWeightToBfq(weight: number): number {
  return clamp(weight, 1, 1000);
}

/** The writes that set `limits` on a v1 group, in the order they must happen. */
export function v1Files(limits: Limits): FileWrite[] {
  const w: FileWrite[] = [];
  const { cpu, cpuset, memory, pids, io } = limits;
  if (cpu?.quota !== undefined) {
    // The period first: the kernel checks the quota against it.
    w.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(cpu.period ?? CPU_PERIOD_DEFAULT) });
    w.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: v1Value(cpu.quota) });
  }
  if (cpu?.weight !== undefined) w.push({ controller: 'cpu', file: 'cpu.shares', value: String(weightToShares(cpu.weight)) });
  if (cpu?.shares !== undefined) w.push({ controller: 'cpu', file: 'cpu.shares', value: String(cpu.shares) });
  if (cpuset?.cpus !== undefined) w.push({ controller: 'cpuset', file: 'cpuset.cpus', value: cpuset.cpus });
  if (cpuset?.mems !== undefined) w.push({ controller: 'cpuset', file: 'cpuset.mems', value: cpuset.mems });
  if (memory?.max !== undefined) {
    // memory.memsw.limit_in_bytes may never be below memory.limit_in_bytes:
    // in a new group both are unlimited, so the memory limit goes first
    // (V1Group.liveOrder reorders them for a live group).
    w.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: v1Value(memory.max) });
  }
  if (memory?.swap !== undefined) {
    const total = memory.swap === UNLIMITED || memory.max === undefined ? UNLIMITED : memory.max + memory.swap;
    w.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: v1Value(total) });
  }
  if (pids?.max !== undefined) w.push({ controller: 'pids', file: 'pids.max', value: v2Value(pids.max) });
  if (io?.weight !== undefined) {
    w.push({ controller: 'blkio', file: 'blkio.bfq.weight', value: String(ioWeightToBfq(io.weight)), fallback: { file: 'blkio.weight', value: String(clamp(io.weight, 10, 1000)) } });
  }
  for (const [size, bytes] of Object.entries(limits.hugetlb ?? {})) {
    // The rsvd limit too, as runc sets it: then mmap(2) fails with ENOMEM
    // at reservation instead of a SIGBUS at the fault (hugetlb.rst).
    w.push({ controller: 'hugetlb', file: `hugetlb.${size}.limit_in_bytes`, value: v1Value(bytes) });
    w.push({ controller: 'hugetlb', file: `hugetlb.${size}.rsvd.limit_in_bytes`, value: v1Value(bytes), optional: true });
  }
  return w;
}

/** The writes that set `limits` on a v2 group. */
export function v2Files(limits: Limits): FileWrite[] {
  const w: FileWrite[] = [];
  const { cpu, cpuset, memory, pids, io } = limits;
  if (cpu?.quota !== undefined) w.push({ controller: 'cpu', file: 'cpu.max', value: formatCpuMax(cpu.quota === UNLIMITED ? null : cpu.quota, cpu.period ?? CPU_PERIOD_DEFAULT) });
  if (cpu?.weight !== undefined) w.push({ controller: 'cpu', file: 'cpu.weight', value: String(cpu.weight) });
  if (cpu?.shares !== undefined) w.push({ controller: 'cpu', file: 'cpu.weight', value: String(sharesToWeight(cpu.shares)) });
  if (cpuset?.cpus !== undefined) w.push({ controller: 'cpuset', file: 'cpuset.cpus', value: cpuset.cpus });
  if (cpuset?.mems !== undefined) w.push({ controller: 'cpuset', file: 'cpuset.mems', value: cpuset.mems });
  if (memory?.max !== undefined) w.push({ controller: 'memory', file: 'memory.max', value: v2Value(memory.max) });
  if (memory?.swap !== undefined) w.push({ controller: 'memory', file: 'memory.swap.max', value: v2Value(memory.swap) });
  if (pids?.max !== undefined) w.push({ controller: 'pids', file: 'pids.max', value: v2Value(pids.max) });
  if (io?.weight !== undefined) {
    w.push({ controller: 'io', file: 'io.weight', value: `default ${io.weight}`, fallback: { file: 'io.bfq.weight', value: String(ioWeightToBfq(io.weight)) } });
  }
  for (const [size, bytes] of Object.entries(limits.hugetlb ?? {})) {
    w.push({ controller: 'hugetlb', file: `hugetlb.${size}.max`, value: v2Value(bytes) });
    w.push({ controller: 'hugetlb', file: `hugetlb.${size}.rsvd.max`, value: v2Value(bytes), optional: true });
  }
  return w;
}

/** cpu.max: `"$QUOTA $PERIOD"`, `"max $PERIOD"` for no limit (cgroup-v2.rst). */
export function formatCpuMax(quota: number | null, period: number): string {
  return `${quota === null ? 'max' : quota} ${period}`;
}

export function parseCpuMax(text: string): { quota: number | null; period: number } {
  const [q, p] = text.trim().split(/\s+/);
  return { quota: q === 'max' ? null : Number(q), period: Number(p ?? CPU_PERIOD_DEFAULT) };
}

/** A flat-keyed file (cpu.stat, memory.events, pids.events, oom_control): `key value` per line. */
export function parseKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = v === 'max' ? Infinity : Number(v);
  }
  return out;
}

/** A single-value file: `42\n` → 42, `max\n` → Infinity. */
export function parseValue(text: string): number {
  const t = text.trim();
  return t === 'max' ? Infinity : Number(t);
}

/** What the kernel counts for a group; null where the controller is absent. */
export interface CgroupStats {
  cpu: {
    /** CPU time used by every task of the group, in µs (v1 cpuacct.usage / 1000, v2 cpu.stat usage_usec). */
    usageUsec: number;
    userUsec: number | null;
    systemUsec: number | null;
    /** Enforcement periods that had runnable tasks, and those that hit the quota (cpu controller only). */
    periods: number | null;
    throttledPeriods: number | null;
    throttledUsec: number | null;
  } | null;
  memory: {
    /** Bytes charged now (v1 memory.usage_in_bytes, v2 memory.current). */
    current: number;
    /** The most ever charged (v1 memory.max_usage_in_bytes, v2 memory.peak). */
    peak: number | null;
    /**
     * Times the limit was hit (v1 memory.failcnt or memory.memsw.failcnt;
     * v2 memory.events max). Measured on Linux 6.18: with a v1 memory+swap
     * limit it is the memsw counter that fails, and it keeps no count, so
     * this can read 0 next to an OOM kill. `oomKills` is the reliable one.
     */
    limitHits: number | null;
    /** Processes the OOM killer killed in the group (v1 memory.oom_control, v2 memory.events oom_kill). */
    oomKills: number;
  } | null;
  pids: {
    current: number;
    peak: number | null;
    /** Forks refused because of pids.max (pids.events max). */
    forkFailures: number | null;
  } | null;
  /** True when the OOM killer killed something in the group. */
  oomKilled: boolean;
}

const orNull = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? null : n);

/** Files a v1 group's stats come from, by controller; null for a missing file. */
export interface V1StatFiles {
  cpuacctUsage?: string | null;
  cpuacctUser?: string | null;
  cpuacctSys?: string | null;
  cpuStat?: string | null;
  memoryUsage?: string | null;
  memoryMaxUsage?: string | null;
  memoryFailcnt?: string | null;
  memswFailcnt?: string | null;
  memoryOomControl?: string | null;
  pidsCurrent?: string | null;
  pidsPeak?: string | null;
  pidsEvents?: string | null;
}

export function v1Stats(f: V1StatFiles): CgroupStats {
  const ns = (t: string | null | undefined) => (t == null ? null : Math.floor(parseValue(t) / 1000));
  const cpuStat = f.cpuStat ? parseKeyed(f.cpuStat) : null;
  const usage = ns(f.cpuacctUsage);
  const oom = f.memoryOomControl ? parseKeyed(f.memoryOomControl) : null;
  const memory = f.memoryUsage == null ? null : {
    current: parseValue(f.memoryUsage),
    peak: f.memoryMaxUsage == null ? null : parseValue(f.memoryMaxUsage),
    // With a memory+swap limit, charges may fail on that counter instead.
    limitHits: f.memoryFailcnt == null ? null : Math.max(parseValue(f.memoryFailcnt), f.memswFailcnt == null ? 0 : parseValue(f.memswFailcnt)),
    oomKills: oom?.oom_kill ?? 0,
  };
  return {
    cpu: usage === null ? null : {
      usageUsec: usage,
      userUsec: ns(f.cpuacctUser),
      systemUsec: ns(f.cpuacctSys),
      periods: orNull(cpuStat?.nr_periods),
      throttledPeriods: orNull(cpuStat?.nr_throttled),
      throttledUsec: cpuStat?.throttled_time === undefined ? null : Math.floor(cpuStat.throttled_time / 1000),
    },
    memory,
    pids: pidsStats(f),
    oomKilled: (memory?.oomKills ?? 0) > 0,
  };
}

/** pids.current, pids.peak and pids.events read the same in v1 and v2. */
function pidsStats(f: { pidsCurrent?: string | null; pidsPeak?: string | null; pidsEvents?: string | null }): CgroupStats['pids'] {
  if (f.pidsCurrent == null) return null;
  return {
    current: parseValue(f.pidsCurrent),
    peak: f.pidsPeak == null ? null : parseValue(f.pidsPeak),
    forkFailures: f.pidsEvents == null ? null : orNull(parseKeyed(f.pidsEvents).max),
  };
}

export interface V2StatFiles {
  cpuStat?: string | null;
  memoryCurrent?: string | null;
  memoryPeak?: string | null;
  memoryEvents?: string | null;
  pidsCurrent?: string | null;
  pidsPeak?: string | null;
  pidsEvents?: string | null;
}

export function v2Stats(f: V2StatFiles): CgroupStats {
  // cpu.stat's usage_usec, user_usec and system_usec are kept by the core
  // for every v2 group; the nr_* and throttled_usec lines only appear when
  // the cpu controller is enabled for it.
  const cpuStat = f.cpuStat ? parseKeyed(f.cpuStat) : null;
  const events = f.memoryEvents ? parseKeyed(f.memoryEvents) : null;
  const memory = f.memoryCurrent == null ? null : {
    current: parseValue(f.memoryCurrent),
    peak: f.memoryPeak == null ? null : parseValue(f.memoryPeak),
    limitHits: orNull(events?.max),
    oomKills: events?.oom_kill ?? 0,
  };
  return {
    cpu: cpuStat?.usage_usec === undefined ? null : {
      usageUsec: cpuStat.usage_usec,
      userUsec: orNull(cpuStat.user_usec),
      systemUsec: orNull(cpuStat.system_usec),
      periods: orNull(cpuStat.nr_periods),
      throttledPeriods: orNull(cpuStat.nr_throttled),
      throttledUsec: orNull(cpuStat.throttled_usec),
    },
    memory,
    pids: pidsStats(f),
    oomKilled: (memory?.oomKills ?? 0) > 0,
  };
}
