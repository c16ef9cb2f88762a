// Resource limits in one vocabulary for v1 and v2, and their validation.
// Everything here is checked before a single cgroup is made.
import { existsSync, readFileSync } from 'node:fs';
import { ValidationError } from '@nsk/syscall';
import { validateHugetlb, type HugetlbLimits } from './hugetlb.ts';

/**
 * `Infinity` for a limit lifts it: v1's -1, v2's "max". A new group has no
 * limits, so it matters for `set()` on a live group (runc's `update … -1`).
 */
export const UNLIMITED = Infinity;

export interface CpuLimits {
  /** CPU time the group may use per period, in µs (≥ 1000). 30000 of 100000 = 30 % of one CPU. `Infinity`: no quota. */
  quota?: number;
  /** The period for `quota`, in µs: 1000 … 1 000 000. Default 100 000. */
  period?: number;
  /** Relative weight, v2 units: 1 … 10 000, default 100 (v1: cpu.shares = weight × 1024 / 100). */
  weight?: number;
  /** Relative weight, v1 units: 2 … 262 144, default 1024 (v2: cpu.weight = shares × 100 / 1024). */
  shares?: number;
}

export interface CpusetLimits {
  /** CPUs the group may run on, as a list: `'0'`, `'0-1,3'`. Each must be online. */
  cpus?: string;
  /** Memory nodes, same syntax. Each must be online. */
  mems?: string;
}

export interface MemoryLimits {
  /** The most memory the group may use, in bytes; past it the kernel reclaims, then OOM-kills. `Infinity`: none. */
  max?: number;
  /** Swap the group may use on top of `max`, in bytes (needs `max`, unless it is `Infinity`). 0: none. */
  swap?: number;
}

export interface PidsLimits {
  /** The most tasks (processes and threads) the group may hold: fork fails with EAGAIN past it. `Infinity`: none. */
  max?: number;
}

export interface IoLimits {
  /** Relative I/O weight, 1 … 10 000 (v2 io.weight); BFQ's weight files take 1 … 1000, so it is clamped there. */
  weight?: number;
}

export interface Limits {
  cpu?: CpuLimits;
  cpuset?: CpusetLimits;
  memory?: MemoryLimits;
  pids?: PidsLimits;
  io?: IoLimits;
  /** Bytes of huge pages per page size, as the kernel names it: `{ '2MB': 0 }` (hugetlb.ts). */
  hugetlb?: HugetlbLimits;
}

export type Resource = keyof Limits;
export const RESOURCES: readonly Resource[] = ['cpu', 'cpuset', 'memory', 'pids', 'io', 'hugetlb'];

const KEYS: Record<Resource, readonly string[]> = {
  cpu: ['quota', 'period', 'weight', 'shares'],
  cpuset: ['cpus', 'mems'],
  memory: ['max', 'swap'],
  pids: ['max'],
  io: ['weight'],
  hugetlb: [], // keyed by page size, checked by validateHugetlb
};

/** Limits of the kernel (kernel/sched/core.c: 1 ms ≤ period ≤ 1 s, quota ≥ 1 ms). */
export const CPU_PERIOD_MIN = 1000;
export const CPU_PERIOD_MAX = 1_000_000;
export const CPU_QUOTA_MIN = 1000;
export const CPU_PERIOD_DEFAULT = 100_000;

/** `'0-2,5'` → [0, 1, 2, 5]. Throws a ValidationError naming `field`. */
export function parseCpuList(list: string, field = 'cpuset.cpus'): number[] {
  const out = new Set<number>();
  if (typeof list !== 'string' || list.trim() === '') throw new ValidationError(field, `give a list such as "0" or "0-1,3", not ${JSON.stringify(list)}`);
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new ValidationError(field, `${JSON.stringify(part)} is not a number or a range a-b`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new ValidationError(field, `range ${part} runs backwards`);
    if (b - a > 65536) throw new ValidationError(field, `range ${part} is implausibly large`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** The CPUs and memory nodes that are online (sysfs). */
export interface HostTopology {
  cpus: readonly number[];
  mems: readonly number[];
}

export function hostTopology(): HostTopology {
  const read = (p: string, fallback: string) => (existsSync(p) ? readFileSync(p, 'utf8').trim() : fallback);
  return {
    cpus: parseCpuList(read('/sys/devices/system/cpu/online', '0'), 'online cpus'),
    // Without NUMA there is no node directory, and node 0 is all memory.
    mems: parseCpuList(read('/sys/devices/system/node/online', '0'), 'online nodes'),
  };
}

/** An integer in range, or `Infinity` (no limit). */
function limit(field: string, v: unknown, min: number, max: number, unit = ''): number {
  return v === UNLIMITED ? v : integer(field, v, min, max, unit);
}

function integer(field: string, v: unknown, min: number, max: number, unit = ''): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ValidationError(field, `must be an integer${unit}, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw new ValidationError(field, `must be between ${min} and ${max}${unit}, got ${v}`);
  return v;
}

/**
 * Checks every limit and returns them unchanged. Throws a ValidationError
 * for unknown keys, values out of the kernel's range, and CPUs or memory
 * nodes that are not online — before anything is created.
 */
export function validateLimits(limits: Limits, topology?: HostTopology): Limits {
  if (limits === null || typeof limits !== 'object') throw new ValidationError('limits', 'must be an object');
  for (const [key, value] of Object.entries(limits)) {
    if (value === undefined) continue;
    const known = KEYS[key as Resource];
    if (!known) throw new ValidationError(`limits.${key}`, `unknown resource (known: ${RESOURCES.join(', ')})`);
    if (value === null || typeof value !== 'object') throw new ValidationError(`limits.${key}`, 'must be an object');
    if (key === 'hugetlb') continue;
    for (const k of Object.keys(value)) if (!known.includes(k)) throw new ValidationError(`limits.${key}.${k}`, `unknown limit (known: ${known.join(', ')})`);
  }
  const { cpu, cpuset, memory, pids, io, hugetlb } = limits;
  if (cpu) {
    if (cpu.period !== undefined) integer('limits.cpu.period', cpu.period, CPU_PERIOD_MIN, CPU_PERIOD_MAX, ' µs');
    if (cpu.quota !== undefined) limit('limits.cpu.quota', cpu.quota, CPU_QUOTA_MIN, Number.MAX_SAFE_INTEGER, ' µs');
    if (cpu.period !== undefined && cpu.quota === undefined) throw new ValidationError('limits.cpu.period', 'a period without a quota limits nothing; give cpu.quota too');
    if (cpu.weight !== undefined && cpu.shares !== undefined) throw new ValidationError('limits.cpu', 'give weight or shares, not both (they are the same knob in v2 and v1 units)');
    if (cpu.weight !== undefined) integer('limits.cpu.weight', cpu.weight, 1, 10000);
    if (cpu.shares !== undefined) integer('limits.cpu.shares', cpu.shares, 2, 262144);
  }
  if (cpuset) {
    // sysfs is read only for a cpuset limit: most groups have none.
    const t = topology ?? hostTopology();
    for (const [k, online] of [['cpus', t.cpus], ['mems', t.mems]] as const) {
      const list = cpuset[k];
      if (list === undefined) continue;
      const unknown = parseCpuList(list, `limits.cpuset.${k}`).filter((n) => !online.includes(n));
      if (unknown.length) throw new ValidationError(`limits.cpuset.${k}`, `${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not online (online: ${online.join(',')})`);
    }
  }
  if (memory) {
    if (memory.max !== undefined) limit('limits.memory.max', memory.max, 1, Number.MAX_SAFE_INTEGER, ' bytes');
    if (memory.swap !== undefined) {
      limit('limits.memory.swap', memory.swap, 0, Number.MAX_SAFE_INTEGER, ' bytes');
      if (memory.max === undefined && memory.swap !== UNLIMITED) throw new ValidationError('limits.memory.swap', 'swap is counted on top of memory.max; give memory.max too');
      if (memory.max !== undefined && Number.isFinite(memory.max + memory.swap) && memory.max + memory.swap > Number.MAX_SAFE_INTEGER) throw new ValidationError('limits.memory.swap', 'max + swap is too large');
    }
  }
  if (pids?.max !== undefined) limit('limits.pids.max', pids.max, 1, 4194304);
  if (io?.weight !== undefined) integer('limits.io.weight', io.weight, 1, 10000);
  if (hugetlb) validateHugetlb(hugetlb);
  return limits;
}

/** The resources that `limits` sets something for. */
export function limitedResources(limits: Limits): Resource[] {
  return RESOURCES.filter((r) => {
    const v = limits[r];
    return v !== undefined && Object.values(v).some((x) => x !== undefined);
  });
}
