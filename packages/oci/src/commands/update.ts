// update: new limits for a container that runs — runc's `update`. The
// request is a `linux.resources` object (from --resources FILE, `-` for
// stdin, or built from runc's single-value flags), checked by the same code
// as config.json's, then against this host, and only then written to the
// container's existing groups through @nsk/cgroup. Values left out stay as
// they are (cgroups(7): each control file is changed on its own).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NskError, ValidationError } from '@nsk/syscall';
import { parseCpuMax, prepareCgroup, resourceSide, type Cgroup, type Layout, type Limits } from '@nsk/cgroup';
import { bad, type Json } from '../config/json.ts';
import { checkResources } from '../config/resources.ts';
import { writeDeviceRules } from '../runtime/cgroup.ts';
import { openGroups } from '../runtime/cgroup-open.ts';
import { load, statusOf } from '../runtime/state.ts';
import { StateError } from './lifecycle.ts';
import type { Global } from './context.ts';

export interface UpdateOptions {
  /** A file holding a `linux.resources` object; `-` reads stdin. */
  resources?: string;
  /** runc's single-value flags by name (`memory`, `pids-limit`, …) → their value. */
  set: Record<string, string>;
}

type Kind = 'size' | 'int' | 'string';
/** runc update's flags → where their value goes in `linux.resources`. */
const FLAGS: Record<string, [section: string, key: string, kind: Kind]> = {
  memory: ['memory', 'limit', 'size'],
  'memory-swap': ['memory', 'swap', 'size'],
  'memory-reservation': ['memory', 'reservation', 'size'],
  'pids-limit': ['pids', 'limit', 'int'],
  'cpu-quota': ['cpu', 'quota', 'int'],
  'cpu-period': ['cpu', 'period', 'int'],
  'cpu-share': ['cpu', 'shares', 'int'],
  'cpu-shares': ['cpu', 'shares', 'int'],
  'cpu-burst': ['cpu', 'burst', 'int'],
  'cpu-rt-period': ['cpu', 'realtimePeriod', 'int'],
  'cpu-rt-runtime': ['cpu', 'realtimeRuntime', 'int'],
  'cpu-idle': ['cpu', 'idle', 'int'],
  'cpuset-cpus': ['cpu', 'cpus', 'string'],
  'cpuset-mems': ['cpu', 'mems', 'string'],
  'blkio-weight': ['blockIO', 'weight', 'int'],
};

const usage = (message: string) => new NskError(`update: ${message}`, 'ERR_NSK_USAGE');

const UNITS = ['', 'k', 'm', 'g', 't', 'p'];
/** `512m`, `1g`, `1.5GiB`, `4096` → bytes (binary units, as docker's and runc's flags); `-1` stays. */
export function sizeInBytes(flag: string, v: string): number {
  if (v === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(v);
  if (!m) throw usage(`--${flag}: not a size: ${JSON.stringify(v)} (bytes, or a number with k, m, g, t or p)`);
  return Math.floor(Number(m[1]) * 1024 ** UNITS.indexOf((m[2] ?? '').toLowerCase()));
}

function fromFlags(set: Record<string, string>): Json {
  const r: Record<string, Json> = {};
  for (const [flag, v] of Object.entries(set)) {
    if (flag === 'l3-cache-schema' || flag === 'mem-bw-schema') throw usage(`--${flag}: Intel RDT (linux.intelRdt) is not supported by nsk-runtime`);
    const to = FLAGS[flag];
    if (!to) throw usage(`unknown option --${flag}`);
    const [section, key, kind] = to;
    if (v === '') continue; // runc: an empty value leaves it alone
    let value: string | number = v;
    if (kind === 'size') value = sizeInBytes(flag, v);
    else if (kind === 'int') {
      if (!/^-?\d+$/.test(v)) throw usage(`--${flag}: not a whole number: ${JSON.stringify(v)}`);
      value = Number(v);
    }
    (r[section] ??= {})[key] = value;
  }
  return r;
}

function readRequest(o: UpdateOptions): unknown {
  if (o.resources === undefined) return fromFlags(o.set);
  if (Object.keys(o.set).length) throw usage(`give --resources or the single-value flags (${Object.keys(o.set).map((k) => `--${k}`).join(', ')}), not both`);
  let text: string;
  try { text = readFileSync(o.resources === '-' ? 0 : o.resources, 'utf8'); } catch (err) { throw usage(`--resources ${o.resources}: ${(err as Error).message}`); }
  try { return JSON.parse(text); } catch (err) { throw usage(`--resources ${o.resources}: not JSON: ${(err as Error).message}`); }
}

/** The group's CPU quota (null: none) and period now, from its own files. */
function currentCpu(group: Cgroup, layout: Layout): { quota: number | null; period: number } | null {
  const side = resourceSide(layout, 'cpu');
  if (side === 'v2' && group.v2Dir) return parseCpuMax(readFileSync(join(group.v2Dir, 'cpu.max'), 'utf8'));
  const dir = side === 'v1' ? group.v1Dir('cpu') : null;
  if (!dir) return null;
  const quota = Number(readFileSync(join(dir, 'cpu.cfs_quota_us'), 'utf8'));
  return { quota: quota < 0 ? null : quota, period: Number(readFileSync(join(dir, 'cpu.cfs_period_us'), 'utf8')) };
}

/**
 * A quota is always written with its period (the kernel checks one against
 * the other): the one not asked for keeps its current value, as in runc,
 * which merges the request into the limits it recorded.
 */
function withCurrentCpu(limits: Limits, group: Cgroup, layout: Layout): Limits {
  const cpu = limits.cpu;
  if (!cpu || (cpu.quota === undefined && cpu.period === undefined)) return limits;
  const now = currentCpu(group, layout);
  if (!now) return limits;
  const quota = cpu.quota ?? now.quota;
  const period = cpu.period ?? now.period;
  const { quota: _q, period: _p, ...rest } = cpu;
  if (quota === null) {
    if (period !== now.period) bad('linux.resources.cpu.period', 'the container has no CPU quota, and a period alone limits nothing: give linux.resources.cpu.quota too');
    return { ...limits, cpu: rest };
  }
  return { ...limits, cpu: { ...rest, quota, period } };
}

/** @nsk/cgroup's field names → the request's JSON paths. */
const PATHS: Record<string, string> = {
  'limits.memory.max': 'linux.resources.memory.limit',
  'limits.memory.swap': 'linux.resources.memory.swap',
  'limits.pids.max': 'linux.resources.pids.limit',
  'limits.cpu': 'linux.resources.cpu',
  'limits.cpu.quota': 'linux.resources.cpu.quota',
  'limits.cpu.period': 'linux.resources.cpu.period',
  'limits.cpu.shares': 'linux.resources.cpu.shares',
  'limits.cpuset.cpus': 'linux.resources.cpu.cpus',
  'limits.cpuset.mems': 'linux.resources.cpu.mems',
  'limits.io.weight': 'linux.resources.blockIO.weight',
};

/** Ranges, online CPUs, a controller for each limit, swap accounting: checked, nothing written. */
function checkOnHost(limits: Limits, name: string, parent: string, layout: Layout): void {
  try {
    prepareCgroup({ name, parent, limits, layout });
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(PATHS[err.field] ?? `linux.resources (${err.field})`, err.message.slice(err.field.length + 2));
    if (err instanceof NskError) throw new ValidationError('linux.resources', err.message);
    throw err;
  }
}

export function update(g: Global, id: string, o: UpdateOptions): void {
  const s = load(g.root, id);
  const status = statusOf(g.root, s);
  if (status === 'stopped') throw new StateError(`cannot update container ${id}: it is stopped`);
  const raw = readRequest(o);
  const { limits: asked, devices } = checkResources(raw, { lift: true });
  const open = openGroups(s.groups);
  const limits = withCurrentCpu(asked, open.group, open.layout);
  checkOnHost(limits, open.name, open.parent, open.layout);
  if (devices && !open.devices) bad('linux.resources.devices', 'the container has no v1 devices cgroup to write rules to (cgroup v2 device rules are eBPF programs, which nsk-runtime does not load)');
  // Everything is checked: now the writes.
  open.group.set(limits);
  // The rules in order, then the default allow-list again — as create
  // wrote them. A deny-all first leaves, for the moment of these writes,
  // only what was already open usable (the v1 controller checks open(2)).
  if (devices) writeDeviceRules(open.devices!, devices);
}
