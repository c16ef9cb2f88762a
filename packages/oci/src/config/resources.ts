// config.json `linux.resources` → @nsk/cgroup's Limits and a device
// allow-list (the v1 `devices` controller's own rule syntax).
import { hugePageSizes, pageSizeProblem, type Limits } from '@nsk/cgroup';
import { array, bad, bool, integer, known, object, optInteger, optObject, string, unsupported, type Json } from './json.ts';

export interface DeviceRule { allow: boolean; type: 'a' | 'b' | 'c'; major: number | null; minor: number | null; access: string }

export interface ResourcesSpec {
  limits: Limits;
  /** Null: no rule given (the default allow-list applies). */
  devices: DeviceRule[] | null;
}

/** `c 1:3 rwm` as devices.allow takes it. */
export function deviceRuleText(r: DeviceRule): string {
  return r.type === 'a' ? 'a' : `${r.type} ${r.major ?? '*'}:${r.minor ?? '*'} ${r.access}`;
}

/**
 * `lift`: -1 lifts a limit (`update` of a live group: runc writes -1 or
 * "max"). Without it, as in config.json, -1 means no limit, which a new
 * group has already.
 */
export function checkResources(v: unknown, o: { lift?: boolean } = {}): ResourcesSpec {
  const lifted = (n: number | undefined) => o.lift === true && n === -1;
  const r: Json = optObject('linux.resources', v) ?? {};
  known('linux.resources', r, ['devices', 'memory', 'cpu', 'pids', 'blockIO', 'hugepageLimits', 'network', 'rdma', 'unified']);
  unsupported('linux.resources.network', r.network, 'net_cls/net_prio are not driven by @nsk/cgroup');
  unsupported('linux.resources.rdma', r.rdma, 'the rdma controller is not driven by @nsk/cgroup');
  unsupported('linux.resources.unified', r.unified, 'raw cgroup v2 files are not written by nsk-runtime');
  const limits: Limits = {};

  const m = optObject('linux.resources.memory', r.memory);
  if (m) {
    known('linux.resources.memory', m, ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate']);
    for (const k of ['reservation', 'kernel', 'kernelTCP', 'swappiness']) unsupported(`linux.resources.memory.${k}`, m[k], 'not driven by @nsk/cgroup');
    if (bool('linux.resources.memory.disableOOMKiller', m.disableOOMKiller, false)) bad('linux.resources.memory.disableOOMKiller', 'cannot be honored: not driven by @nsk/cgroup');
    const limit = optInteger('linux.resources.memory.limit', m.limit, -1);
    const swap = optInteger('linux.resources.memory.swap', m.swap, -1);
    if (lifted(limit)) {
      // memory+swap may not stay below memory: @nsk/cgroup lifts it too.
      if (swap !== undefined && swap > 0) bad('linux.resources.memory.swap', 'a memory+swap limit needs a memory limit, and memory.limit -1 lifts it');
      limits.memory = { max: Infinity, ...(lifted(swap) ? { swap: Infinity } : {}) };
    } else if (lifted(swap)) {
      limits.memory = { ...(limit !== undefined && limit > 0 ? { max: limit } : {}), swap: Infinity };
    } else if (limit !== undefined && limit > 0) {
      limits.memory = { max: limit };
      // runtime-spec: swap is memory + swap; @nsk/cgroup counts swap on top.
      if (swap !== undefined && swap > 0) {
        if (swap < limit) bad('linux.resources.memory.swap', `memory+swap (${swap}) is below the memory limit (${limit})`);
        limits.memory.swap = swap - limit;
      }
    } else if (swap !== undefined && swap > 0) bad('linux.resources.memory.swap', 'a swap limit needs memory.limit');
  }

  const c = optObject('linux.resources.cpu', r.cpu);
  if (c) {
    known('linux.resources.cpu', c, ['shares', 'quota', 'burst', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems', 'idle']);
    for (const k of ['burst', 'realtimeRuntime', 'realtimePeriod', 'idle']) unsupported(`linux.resources.cpu.${k}`, c[k], 'not driven by @nsk/cgroup');
    const shares = optInteger('linux.resources.cpu.shares', c.shares, 0);
    const quota = optInteger('linux.resources.cpu.quota', c.quota, -1);
    const period = optInteger('linux.resources.cpu.period', c.period, 0);
    const cpu: NonNullable<Limits['cpu']> = {};
    if (shares) cpu.shares = shares;
    if (quota !== undefined && quota > 0) cpu.quota = quota;
    if (lifted(quota)) cpu.quota = Infinity;
    if (period) cpu.period = period;
    if (Object.keys(cpu).length) limits.cpu = cpu;
    const cpus = c.cpus === undefined || c.cpus === '' ? undefined : string('linux.resources.cpu.cpus', c.cpus);
    const mems = c.mems === undefined || c.mems === '' ? undefined : string('linux.resources.cpu.mems', c.mems);
    if (cpus !== undefined || mems !== undefined) limits.cpuset = { ...(cpus !== undefined ? { cpus } : {}), ...(mems !== undefined ? { mems } : {}) };
  }

  const p = optObject('linux.resources.pids', r.pids);
  if (p) {
    known('linux.resources.pids', p, ['limit']);
    const limit = optInteger('linux.resources.pids.limit', p.limit);
    if (limit !== undefined && limit > 0) limits.pids = { max: limit };
    if (lifted(limit)) limits.pids = { max: Infinity };
  }

  const b = optObject('linux.resources.blockIO', r.blockIO);
  if (b) {
    known('linux.resources.blockIO', b, ['weight', 'leafWeight', 'weightDevice', 'throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice']);
    for (const k of ['leafWeight', 'weightDevice', 'throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice']) unsupported(`linux.resources.blockIO.${k}`, b[k], 'not driven by @nsk/cgroup');
    const weight = optInteger('linux.resources.blockIO.weight', b.weight, 0, 1000);
    if (weight) limits.io = { weight };
  }

  if (r.hugepageLimits !== undefined && r.hugepageLimits !== null) {
    // runtime-spec config-linux.md: pageSize "<size><unit-prefix>B" (2MB,
    // 1GB), the names of the kernel's hugetlb.<size>.* files.
    const sizes = hugePageSizes();
    const hugetlb: Record<string, number> = {};
    array('linux.resources.hugepageLimits', r.hugepageLimits).forEach((h, i) => {
      const f = `linux.resources.hugepageLimits[${i}]`;
      const o = object(f, h);
      known(f, o, ['pageSize', 'limit']);
      const size = string(`${f}.pageSize`, o.pageSize);
      const problem = pageSizeProblem(size, sizes);
      if (problem) bad(`${f}.pageSize`, problem);
      if (size in hugetlb) bad(`${f}.pageSize`, `${size} is limited twice`);
      hugetlb[size] = integer(`${f}.limit`, o.limit, 0, Number.MAX_SAFE_INTEGER);
    });
    if (Object.keys(hugetlb).length) limits.hugetlb = hugetlb;
  }

  let devices: DeviceRule[] | null = null;
  if (r.devices !== undefined && r.devices !== null) {
    devices = array('linux.resources.devices', r.devices).map((d, i) => {
      const f = `linux.resources.devices[${i}]`;
      const o = object(f, d);
      known(f, o, ['allow', 'type', 'major', 'minor', 'access']);
      const type = (o.type ?? 'a') as string;
      if (type !== 'a' && type !== 'b' && type !== 'c') bad(`${f}.type`, `'a', 'b' or 'c', not ${JSON.stringify(o.type)}`);
      const access = o.access === undefined || o.access === '' ? 'rwm' : string(`${f}.access`, o.access);
      if (!/^[rwm]{1,3}$/.test(access)) bad(`${f}.access`, `letters of "rwm", not ${JSON.stringify(access)}`);
      const major = optInteger(`${f}.major`, o.major, -1);
      const minor = optInteger(`${f}.minor`, o.minor, -1);
      if (typeof o.allow !== 'boolean') bad(`${f}.allow`, 'required: true or false');
      return { allow: o.allow as boolean, type: type as 'a' | 'b' | 'c', major: major === undefined || major < 0 ? null : major, minor: minor === undefined || minor < 0 ? null : minor, access };
    });
  }
  return { limits, devices };
}
