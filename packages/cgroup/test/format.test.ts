// The file formats of v1 and v2, and the routing of limits, without root:
// pure functions fed with the kernel's own text.
import test from 'ava';
import { ValidationError } from '@nsk/syscall';
import {
  CgroupUnavailableError, formatCpuMax, layoutOf, parseCgroupMounts, parseCpuList, parseCpuMax, parseKeyed, parseProcCgroup,
  planLimits, sharesToWeight, v1Files, v1Stats, v2Files, v2Stats, validateLimits, weightToShares, type Layout,
} from '../src/index.ts';
import { leftoverGroups } from './helpers.ts';

const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
// A typical systemd v1 host: cpu and cpuacct co-mounted, and a bind mount of one hierarchy.
const V1_MOUNTINFO = `25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
26 24 0:23 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
27 24 0:24 / /sys/fs/cgroup/freezer rw,nosuid - cgroup cgroup rw,freezer
90 80 0:23 / /mnt/memory\\040copy rw - cgroup cgroup rw,memory
`;
const V2_MOUNTINFO = '30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';

const ALL_V2 = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];
const pureV2: Layout = layoutOf([], { mountPoint: '/sys/fs/cgroup', controllers: ALL_V2 });
const hybrid: Layout = layoutOf(parseCgroupMounts(HYBRID_MOUNTINFO).v1, { mountPoint: '/sys/fs/cgroup/unified', controllers: ['hugetlb'] });
const v2Empty: Layout = layoutOf([], { mountPoint: '/sys/fs/cgroup/unified', controllers: ['hugetlb'] });

test('mountinfo: the three layouts are told apart, named hierarchies and bind mounts are left out', (t) => {
  const h = parseCgroupMounts(HYBRID_MOUNTINFO);
  t.deepEqual(h.v1.map((x) => [x.mountPoint, x.controllers]), [
    ['/sys/fs/cgroup/cpu', ['cpu']], ['/sys/fs/cgroup/cpuacct', ['cpuacct']], ['/sys/fs/cgroup/memory', ['memory']], ['/sys/fs/cgroup/pids', ['pids']],
  ]);
  t.is(h.v2MountPoint, '/sys/fs/cgroup/unified');
  t.is(hybrid.kind, 'hybrid');
  const v1 = parseCgroupMounts(V1_MOUNTINFO);
  t.deepEqual(v1.v1.map((x) => [x.mountPoint, x.controllers]), [
    ['/sys/fs/cgroup/cpu,cpuacct', ['cpu', 'cpuacct']], ['/sys/fs/cgroup/memory', ['memory']], ['/sys/fs/cgroup/freezer', ['freezer']],
  ]);
  t.is(layoutOf(v1.v1, null).kind, 'v1');
  const v2 = parseCgroupMounts(V2_MOUNTINFO);
  t.deepEqual(v2, { v1: [], v2MountPoint: '/sys/fs/cgroup' });
  t.is(pureV2.kind, 'v2');
  t.throws(() => layoutOf([], null), { instanceOf: CgroupUnavailableError });
});

test('/proc/PID/cgroup lines parse into hierarchy id, controllers and path', (t) => {
  t.deepEqual(parseProcCgroup('9:name=systemd:/\n4:memory:/a/b\n1:cpu,cpuacct:/x\n0::/nsk-1-1\n'), [
    { id: 9, controllers: ['name=systemd'], path: '/' },
    { id: 4, controllers: ['memory'], path: '/a/b' },
    { id: 1, controllers: ['cpu', 'cpuacct'], path: '/x' },
    { id: 0, controllers: [], path: '/nsk-1-1' },
  ]);
});

test('limits become v1 files: cfs period before quota, shares from weight, memsw = max + swap, BFQ weight clamped', (t) => {
  t.deepEqual(v1Files({ cpu: { quota: 30000, period: 50000, weight: 100 }, cpuset: { cpus: '0-1', mems: '0' }, memory: { max: 1 << 26, swap: 1 << 20 }, pids: { max: 64 }, io: { weight: 5000 } }).map((w) => [w.controller, w.file, w.value]), [
    ['cpu', 'cpu.cfs_period_us', '50000'],
    ['cpu', 'cpu.cfs_quota_us', '30000'],
    ['cpu', 'cpu.shares', '1024'],
    ['cpuset', 'cpuset.cpus', '0-1'],
    ['cpuset', 'cpuset.mems', '0'],
    ['memory', 'memory.limit_in_bytes', String(1 << 26)],
    ['memory', 'memory.memsw.limit_in_bytes', String((1 << 26) + (1 << 20))],
    ['pids', 'pids.max', '64'],
    ['blkio', 'blkio.bfq.weight', '1000'],
  ]);
  t.deepEqual(v1Files({ cpu: { quota: 30000 } }).map((w) => w.value), ['100000', '30000']);
});

test('limits become v2 files: cpu.max "quota period", cpu.weight from shares, swap.max = swap, io.weight "default N"', (t) => {
  t.deepEqual(v2Files({ cpu: { quota: 30000, shares: 2048 }, cpuset: { cpus: '1' }, memory: { max: 1 << 26, swap: 0 }, pids: { max: 64 }, io: { weight: 500 } }).map((w) => [w.controller, w.file, w.value]), [
    ['cpu', 'cpu.max', '30000 100000'],
    ['cpu', 'cpu.weight', '200'],
    ['cpuset', 'cpuset.cpus', '1'],
    ['memory', 'memory.max', String(1 << 26)],
    ['memory', 'memory.swap.max', '0'],
    ['pids', 'pids.max', '64'],
    ['io', 'io.weight', 'default 500'],
  ]);
  t.deepEqual(v2Files({ io: { weight: 5000 } })[0]!.fallback, { file: 'io.bfq.weight', value: '1000' });
});

test('cpu weight and shares convert as the kernel does (weight × 1024 / 100), keeping the defaults and the ends', (t) => {
  t.is(weightToShares(100), 1024);
  t.is(sharesToWeight(1024), 100);
  t.is(weightToShares(1), 10);
  t.is(weightToShares(10000), 102400);
  t.is(sharesToWeight(2), 1);
  t.is(sharesToWeight(262144), 10000);
  for (const w of [1, 7, 50, 100, 333, 10000]) t.is(sharesToWeight(weightToShares(w)), w);
});

test('cpu.max and flat-keyed files parse; "max" reads as Infinity', (t) => {
  t.is(formatCpuMax(null, 100000), 'max 100000');
  t.deepEqual(parseCpuMax('max 100000\n'), { quota: null, period: 100000 });
  t.deepEqual(parseCpuMax('30000 100000\n'), { quota: 30000, period: 100000 });
  t.deepEqual(parseKeyed('populated 1\nfrozen 0\n'), { populated: 1, frozen: 0 });
  t.deepEqual(parseKeyed('max max\n'), { max: Infinity });
});

test('v1 stats: cpuacct ns become µs, oom_kill comes from memory.oom_control, fork failures from pids.events', (t) => {
  const s = v1Stats({
    cpuacctUsage: '3000000123\n', cpuacctUser: '2000000000\n', cpuacctSys: '1000000000\n',
    cpuStat: 'nr_periods 30\nnr_throttled 20\nthrottled_time 2100000000\nnr_bursts 0\nburst_time 0\n',
    memoryUsage: '4096\n', memoryMaxUsage: '33554432\n', memoryFailcnt: '17\n', memoryOomControl: 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n',
    pidsCurrent: '32\n', pidsPeak: '32\n', pidsEvents: 'max 211\n',
  });
  t.deepEqual(s, {
    cpu: { usageUsec: 3000000, userUsec: 2000000, systemUsec: 1000000, periods: 30, throttledPeriods: 20, throttledUsec: 2100000 },
    memory: { current: 4096, peak: 33554432, limitHits: 17, oomKills: 1 },
    pids: { current: 32, peak: 32, forkFailures: 211 },
    oomKilled: true,
  });
});

test('v2 stats: cpu.stat in µs, memory.events oom_kill, and only the core lines when no controller is enabled', (t) => {
  const s = v2Stats({
    cpuStat: 'usage_usec 900\nuser_usec 600\nsystem_usec 300\nnr_periods 10\nnr_throttled 7\nthrottled_usec 500\n',
    memoryCurrent: '8192\n', memoryPeak: '65536\n', memoryEvents: 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n',
    pidsCurrent: '3\n', pidsPeak: '16\n', pidsEvents: 'max 0\n',
  });
  t.deepEqual(s, {
    cpu: { usageUsec: 900, userUsec: 600, systemUsec: 300, periods: 10, throttledPeriods: 7, throttledUsec: 500 },
    memory: { current: 8192, peak: 65536, limitHits: 12, oomKills: 1 },
    pids: { current: 3, peak: 16, forkFailures: 0 },
    oomKilled: true,
  });
  // A v2 group on a hybrid host: the core keeps cpu.stat's first lines, nothing else.
  const core = v2Stats({ cpuStat: 'usage_usec 5\nuser_usec 4\nsystem_usec 1\nnice_usec 0\n' });
  t.deepEqual(core, { cpu: { usageUsec: 5, userUsec: 4, systemUsec: 1, periods: null, throttledPeriods: null, throttledUsec: null }, memory: null, pids: null, oomKilled: false });
});

test('each limit goes to the side that holds its controller: all v2 on a v2 host, v1 on a hybrid whose v2 is empty', (t) => {
  const limits = { cpu: { quota: 30000 }, memory: { max: 1 << 26 }, pids: { max: 10 } };
  const onV2 = planLimits(pureV2, limits);
  t.deepEqual(onV2.v1, []);
  t.deepEqual(onV2.v2.map((w) => w.file), ['cpu.max', 'memory.max', 'pids.max']);
  t.deepEqual(onV2.v2Controllers, ['cpu', 'memory', 'pids']);
  const onHybrid = planLimits(hybrid, limits);
  t.deepEqual(onHybrid.v1.map((w) => w.file), ['cpu.cfs_period_us', 'cpu.cfs_quota_us', 'memory.limit_in_bytes', 'pids.max']);
  t.deepEqual(onHybrid.v2, []);
  // A hybrid host whose v1 lacks cpuset, and a v2 mount that has it: cpuset goes to v2.
  const mixed = layoutOf(hybrid.v1, { mountPoint: '/sys/fs/cgroup/unified', controllers: ['cpuset'] });
  t.deepEqual(planLimits(mixed, { cpuset: { cpus: '0' }, pids: { max: 5 } }).v2.map((w) => w.file), ['cpuset.cpus']);
  const e = t.throws(() => planLimits(v2Empty, { memory: { max: 1 << 20 } }), { instanceOf: CgroupUnavailableError });
  t.is(e.feature, 'memory');
  t.regex(e.message, /offers hugetlb/);
});

test('limits out of range, unknown keys and CPUs that are not online are refused', (t) => {
  const topo = { cpus: [0, 1], mems: [0] };
  const bad: Array<[object, RegExp]> = [
    [{ memory: { max: -1 } }, /limits\.memory\.max: must be between 1/],
    [{ memory: { max: 1.5 } }, /integer/],
    [{ memory: { swap: 10 } }, /give memory\.max too/],
    [{ cpu: { quota: 999 } }, /limits\.cpu\.quota: must be between 1000/],
    [{ cpu: { quota: 5000, period: 999 } }, /limits\.cpu\.period/],
    [{ cpu: { quota: 5000, period: 1_000_001 } }, /limits\.cpu\.period/],
    [{ cpu: { period: 100000 } }, /without a quota/],
    [{ cpu: { weight: 0 } }, /limits\.cpu\.weight/],
    [{ cpu: { weight: 100, shares: 1024 } }, /not both/],
    [{ cpuset: { cpus: '0-3' } }, /limits\.cpuset\.cpus: 2, 3 are not online/],
    [{ cpuset: { mems: '1' } }, /limits\.cpuset\.mems: 1 is not online/],
    [{ cpuset: { cpus: 'all' } }, /not a number or a range/],
    [{ pids: { max: 0 } }, /limits\.pids\.max/],
    [{ io: { weight: 10001 } }, /limits\.io\.weight/],
    [{ memroy: { max: 1 } }, /limits\.memroy: unknown resource/],
    [{ cpu: { qouta: 1 } }, /limits\.cpu\.qouta: unknown limit/],
  ];
  for (const [limits, message] of bad) t.throws(() => validateLimits(limits as never, topo), { instanceOf: ValidationError, message }, JSON.stringify(limits));
  t.notThrows(() => validateLimits({ cpu: { quota: 1000, period: 1000 }, cpuset: { cpus: '0-1', mems: '0' }, memory: { max: 1, swap: 0 } }, topo));
  t.deepEqual(parseCpuList('0-2,5,1'), [0, 1, 2, 5]);
});

test('these pure tests made no cgroup', (t) => {
  t.deepEqual(leftoverGroups(), []);
});

test('Infinity lifts a limit: -1 in v1 files (pids.max "max"), "max" in v2 files', (t) => {
  const lifted = { cpu: { quota: Infinity }, memory: { max: Infinity, swap: Infinity }, pids: { max: Infinity }, hugetlb: { '2MB': Infinity } };
  t.deepEqual(v1Files(lifted).map((w) => `${w.file}=${w.value}`), [
    'cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=-1', 'memory.limit_in_bytes=-1', 'memory.memsw.limit_in_bytes=-1', 'pids.max=max', 'hugetlb.2MB.limit_in_bytes=-1', 'hugetlb.2MB.rsvd.limit_in_bytes=-1',
  ]);
  t.deepEqual(v2Files(lifted).map((w) => `${w.file}=${w.value}`), [
    'cpu.max=max 100000', 'memory.max=max', 'memory.swap.max=max', 'pids.max=max', 'hugetlb.2MB.max=max', 'hugetlb.2MB.rsvd.max=max',
  ]);
  // Swap alone may be lifted; a finite swap still needs the memory limit it sits on.
  t.deepEqual(v1Files({ memory: { swap: Infinity } }).map((w) => w.value), ['-1']);
  t.notThrows(() => validateLimits({ memory: { swap: Infinity } }));
  t.throws(() => validateLimits({ memory: { swap: 0 } }), { message: /give memory\.max too/ });
  t.throws(() => validateLimits({ cpu: { quota: -Infinity } }), { message: /limits\.cpu\.quota/ });
});
