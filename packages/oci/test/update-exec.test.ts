// runc's `update` (new limits for a running container, read back from its
// cgroup files) and `exec --user/--cap/--no-new-privs` (read back from
// /proc/PID/status of the exec'd process).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostState, leftSince } from '@nsk/testkit';
import { RUNTIME, baseConfig, bundle, rt, stateRoot } from './bundle.ts';

const root = stateRoot();
const before = hostState();
const IDS = ['upd-a', 'upd-b', 'exec-a'];
const HIERARCHIES = ['pids', 'memory', 'cpu', 'cpuset', 'devices', 'freezer', 'blkio', 'unified'];
const cgroupDirsOf = (id: string) => HIERARCHIES.map((h) => `/sys/fs/cgroup/${h}/nsk-runtime/${id}`);
/** A v1 control file of the container: `pids.max` is in the pids hierarchy, `cpu.shares` in cpu's. */
const cg = (id: string, file: string) => readFileSync(`/sys/fs/cgroup/${file.split('.')[0]}/nsk-runtime/${id}/${file}`, 'utf8').trim();
const status = (id: string) => JSON.parse(rt(root, ['state', id]).stdout) as { status: string; pid: number };
const dead = (pid: number) => { try { return /^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; } };
const gone = async (pid: number) => { for (let i = 0; i < 200 && !dead(pid); i++) await new Promise((r) => setTimeout(r, 10)); };
const field = (pid: number, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim() ?? '';
const CAP_SYS_ADMIN = 21n;
const hasCap = (hex: string, bit: bigint) => ((BigInt(`0x${hex}`) >> bit) & 1n) === 1n;

/** nsk-runtime with `input` on its stdin (for `--resources -`). */
function rtIn(args: string[], input: string) {
  const r = spawnSync(RUNTIME, ['--root', root, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function running(t: { is(a: unknown, b: unknown, m?: string): void }, id: string, config = baseConfig(['sleep', '60'])): number {
  const c = rt(root, ['create', '--bundle', bundle(config), id]);
  t.is(c.code, 0, c.stderr);
  const s = rt(root, ['start', id]);
  t.is(s.code, 0, s.stderr);
  return status(id).pid;
}

/** Waits until the exec'd process (its pid file written by exec --detach) runs `comm`. */
async function execd(pidFile: string, comm: string): Promise<number> {
  const pid = Number(readFileSync(pidFile, 'utf8'));
  for (let i = 0; i < 200 && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== comm; i++) await new Promise((r) => setTimeout(r, 10));
  return pid;
}

test.serial('update: runc’s flags, a resources file and stdin change the running container’s cgroup files', (t) => {
  const pid = running(t, 'upd-a');
  t.is(cg('upd-a', 'pids.max'), '64', 'the config’s limit');
  t.is(cg('upd-a', 'cpu.cfs_quota_us'), '-1');

  const f = rt(root, ['update', '--pids-limit', '100', '--memory', '64m', '--cpu-quota', '20000', '--cpu-period', '50000', '--cpu-share', '512', '--cpuset-cpus', '0', 'upd-a']);
  t.is(f.code, 0, f.stderr);
  t.is(cg('upd-a', 'pids.max'), '100');
  t.is(cg('upd-a', 'memory.limit_in_bytes'), String(64 << 20));
  t.is(cg('upd-a', 'cpu.cfs_quota_us'), '20000');
  t.is(cg('upd-a', 'cpu.cfs_period_us'), '50000');
  t.is(cg('upd-a', 'cpu.shares'), '512');
  t.is(cg('upd-a', 'cpuset.cpus'), '0');

  // A file shaped like linux.resources. The quota alone keeps the period set
  // above; memory and memory+swap both rise past the old limit.
  const file = join(bundle({}), 'resources.json');
  writeFileSync(file, JSON.stringify({ pids: { limit: 200 }, cpu: { quota: 30000, cpus: '0-1' }, memory: { limit: 128 << 20, swap: 256 << 20 } }));
  const r = rt(root, ['update', '--resources', file, 'upd-a']);
  t.is(r.code, 0, r.stderr);
  t.is(cg('upd-a', 'pids.max'), '200');
  t.is(cg('upd-a', 'cpu.cfs_quota_us'), '30000');
  t.is(cg('upd-a', 'cpu.cfs_period_us'), '50000', 'the period not asked for stays');
  t.is(cg('upd-a', 'cpuset.cpus'), '0-1');
  t.is(cg('upd-a', 'memory.limit_in_bytes'), String(128 << 20));
  t.is(cg('upd-a', 'memory.memsw.limit_in_bytes'), String(256 << 20));
  t.is(cg('upd-a', 'cpu.shares'), '512', 'what the file leaves out stays');

  const s = rtIn(['update', '-r', '-', 'upd-a'], JSON.stringify({ pids: { limit: 300 } }));
  t.is(s.code, 0, s.stderr);
  t.is(cg('upd-a', 'pids.max'), '300');
  // Huge pages: the container was made without a hugetlb limit, so the v2
  // group gets the controller now (its parents hold no processes).
  const huge = rtIn(['update', '-r', '-', 'upd-a'], JSON.stringify({ hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }] }));
  t.is(huge.code, 0, huge.stderr);
  t.is(readFileSync('/sys/fs/cgroup/unified/nsk-runtime/upd-a/hugetlb.2MB.max', 'utf8').trim(), String(4 << 20));

  // -1 lifts a limit, as with runc: memory+swap with memory (it may not be
  // below it), pids.max "max", no CFS quota.
  const none = readFileSync('/sys/fs/cgroup/memory/memory.limit_in_bytes', 'utf8').trim();
  const lift = rt(root, ['update', '--memory', '-1', '--pids-limit', '-1', '--cpu-quota', '-1', 'upd-a']);
  t.is(lift.code, 0, lift.stderr);
  t.is(cg('upd-a', 'memory.limit_in_bytes'), none);
  t.is(cg('upd-a', 'memory.memsw.limit_in_bytes'), none);
  t.is(cg('upd-a', 'pids.max'), 'max');
  t.is(cg('upd-a', 'cpu.cfs_quota_us'), '-1');
  t.is(rtIn(['update', '-r', '-', 'upd-a'], JSON.stringify({ pids: { limit: 300 }, hugepageLimits: [{ pageSize: '2MB', limit: 0 }] })).code, 0);
  t.is(cg('upd-a', 'pids.max'), '300');

  // Device rules: the v1 devices controller, the default allow-list kept.
  const tun = { type: 'c', major: 10, minor: 200, access: 'rwm' };
  t.is(rtIn(['update', '-r', '-', 'upd-a'], JSON.stringify({ devices: [{ allow: true, ...tun }] })).code, 0);
  t.true(cg('upd-a', 'devices.list').split('\n').includes('c 10:200 rwm'));
  t.is(rtIn(['update', '-r', '-', 'upd-a'], JSON.stringify({ devices: [{ allow: false, ...tun }] })).code, 0);
  t.false(cg('upd-a', 'devices.list').split('\n').includes('c 10:200 rwm'));
  t.true(cg('upd-a', 'devices.list').split('\n').includes('c 1:3 rwm'), '/dev/null stays allowed');

  t.is(status('upd-a').status, 'running');
  t.is(status('upd-a').pid, pid);
  t.false(dead(pid));
  t.is(rt(root, ['delete', '-f', 'upd-a']).code, 0);
});

test.serial('update: a bad value fails naming its JSON path and writes nothing; a stopped or unknown container fails', async (t) => {
  const pid = running(t, 'upd-b');
  const files = ['pids.max', 'memory.limit_in_bytes', 'cpu.cfs_quota_us', 'cpu.cfs_period_us', 'cpu.shares', 'cpuset.cpus', 'devices.list'];
  const snapshot = () => files.map((f) => cg('upd-b', f));
  const was = snapshot();
  const bad: Array<[object, RegExp]> = [
    [{ pids: { limit: 'many' } }, /linux\.resources\.pids\.limit: must be a whole number/],
    // The pids limit is valid, the CPU list is not: nothing is written.
    [{ pids: { limit: 5 }, cpu: { cpus: '0-63' } }, /linux\.resources\.cpu\.cpus: .*not online/],
    [{ pids: { limit: 5 }, cpu: { quota: 500 } }, /linux\.resources\.cpu\.quota: must be between 1000/],
    [{ pids: { limit: 5 }, memory: { limit: -1, swap: 64 << 20 } }, /linux\.resources\.memory\.swap: a memory\+swap limit needs a memory limit/],
    [{ pids: { limit: 5 }, memory: { limit: -2 } }, /linux\.resources\.memory\.limit/],
    [{ pids: { limit: 5 }, cpu: { period: 20000 } }, /linux\.resources\.cpu\.period: the container has no CPU quota/],
    [{ pids: { limit: 5 }, hugepageLimits: [{ pageSize: '2MB', limit: 0 }, { pageSize: '2MB', limit: 1 }] }, /linux\.resources\.hugepageLimits\[1\]\.pageSize: 2MB is limited twice/],
    [{ pids: { limit: 5 }, devices: [{ allow: true, type: 'x' }] }, /linux\.resources\.devices\[0\]\.type/],
    [{ pids: { limit: 5 }, cpus: 1 }, /linux\.resources\.cpus: not supported/],
  ];
  for (const [resources, re] of bad) {
    const r = rtIn(['update', '-r', '-', 'upd-b'], JSON.stringify(resources));
    t.is(r.code, 1, JSON.stringify(resources));
    t.regex(r.stderr, re);
    t.regex(r.stderr, /^nsk-runtime: invalid resources: /m);
  }
  const flags: Array<[string[], RegExp]> = [
    [['--memory', 'lots'], /--memory: not a size/],
    [['--pids-limit', '5', '--cpu-rt-runtime', '10'], /linux\.resources\.cpu\.realtimeRuntime: cannot be honored/],
    [['--pids-limit', '5', '--resources', '/dev/null'], /--resources or the single-value flags/],
    [['--l3-cache-schema', 'L3:0=f'], /Intel RDT/],
  ];
  for (const [args, re] of flags) {
    const r = rt(root, ['update', ...args, 'upd-b']);
    t.is(r.code, 1, args.join(' '));
    t.regex(r.stderr, re);
  }
  t.deepEqual(snapshot(), was, 'not one cgroup file changed');
  t.is(status('upd-b').status, 'running');

  t.is(rt(root, ['kill', 'upd-b', 'KILL']).code, 0);
  await gone(pid);
  const stopped = rt(root, ['update', '--pids-limit', '5', 'upd-b']);
  t.is(stopped.code, 1);
  t.regex(stopped.stderr, /cannot update container upd-b: it is stopped/);
  t.is(cg('upd-b', 'pids.max'), was[0]!);
  t.is(rt(root, ['delete', 'upd-b']).code, 0);
  const unknown = rt(root, ['update', '--pids-limit', '5', 'upd-b']);
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /container upd-b does not exist/);
});

test.serial('exec --user, --cap, --no-new-privs: the exec’d process’s ids, capability sets and no_new_privs', async (t) => {
  const base = baseConfig(['sleep', '60']);
  running(t, 'exec-a', { ...base, process: { ...(base.process as object), noNewPrivileges: false } });
  const dir = bundle({});

  const id = rt(root, ['exec', '--user', '1000:1000', 'exec-a', 'id']);
  t.is(id.code, 0, id.stderr);
  t.regex(id.stdout, /^uid=1000 gid=1000\b/);
  const g = rt(root, ['exec', '-u', '1000', '-g', '10,20', 'exec-a', 'id']);
  t.is(g.code, 0, g.stderr);
  t.regex(g.stdout, /^uid=1000 gid=0\S* groups=10,20\n/, 'no GID: the config’s; -g adds groups');

  t.is(rt(root, ['exec', '--detach', '--user', '1000:1000', '--pid-file', join(dir, 'u'), 'exec-a', 'sleep', '30']).code, 0);
  const u = await execd(join(dir, 'u'), 'sleep');
  t.is(field(u, 'Uid'), '1000\t1000\t1000\t1000');
  t.is(field(u, 'Gid'), '1000\t1000\t1000\t1000');

  t.is(rt(root, ['exec', '--detach', '--cap', 'CAP_SYS_ADMIN', '--pid-file', join(dir, 'c'), 'exec-a', 'sleep', '30']).code, 0);
  t.is(rt(root, ['exec', '--detach', '--pid-file', join(dir, 'p'), 'exec-a', 'sleep', '30']).code, 0);
  const withCap = await execd(join(dir, 'c'), 'sleep');
  const plain = await execd(join(dir, 'p'), 'sleep');
  t.true(hasCap(field(withCap, 'CapEff'), CAP_SYS_ADMIN), 'CAP_SYS_ADMIN effective');
  t.true(hasCap(field(withCap, 'CapBnd'), CAP_SYS_ADMIN), 'and in the bounding set');
  t.false(hasCap(field(plain, 'CapEff'), CAP_SYS_ADMIN), 'a plain exec has not got it');
  t.false(hasCap(field(plain, 'CapBnd'), CAP_SYS_ADMIN));
  t.is(field(withCap, 'CapAmb'), '0000000000000000', 'not ambient: the config makes nothing inheritable');
  // The name without CAP_, in lower case: the kernel lets it do what it allows.
  const host = rt(root, ['exec', '-c', 'sys_admin', '--cap', 'Net_Admin', 'exec-a', 'sh', '-c', 'hostname changed && hostname && grep CapEff /proc/self/status']);
  t.is(host.code, 0, host.stderr);
  t.regex(host.stdout, /^changed\n/);
  t.true(hasCap(/CapEff:\s*(\S+)/.exec(host.stdout)![1]!, 12n), 'CAP_NET_ADMIN too');
  const denied = rt(root, ['exec', 'exec-a', 'hostname', 'again']);
  t.not(denied.code, 0, 'without it, sethostname(2) is refused');

  const nnp = rt(root, ['exec', '--no-new-privs', 'exec-a', 'grep', 'NoNewPrivs', '/proc/self/status']);
  t.regex(nnp.stdout, /NoNewPrivs:\s+1/);
  t.regex(rt(root, ['exec', 'exec-a', 'grep', 'NoNewPrivs', '/proc/self/status']).stdout, /NoNewPrivs:\s+0/);

  const refused: Array<[string[], RegExp]> = [
    [['--cap', 'CAP_NOPE'], /--cap: unknown capability "CAP_NOPE"/],
    [['--user', 'nobody'], /--user: not a user or group id/],
    [['--user', '1:2:3'], /--user: UID\[:GID\]/],
    [['--apparmor', 'docker-default'], /--apparmor is not supported/],
    [['--process-label', 'x'], /--process-label is not supported/],
    [['--process', '/dev/null', '--user', '1000'], /with --process FILE, write them in the file/],
  ];
  for (const [args, re] of refused) {
    const r = rt(root, ['exec', ...args, 'exec-a', 'true']);
    t.is(r.code, 1, args.join(' '));
    t.regex(r.stderr, re);
  }
  t.is(rt(root, ['delete', '-f', 'exec-a']).code, 0);
  for (const pid of [u, withCap, plain]) t.true(dead(pid), `exec'd ${pid} went with the container`);
});

test.after.always('nothing left behind', async (t) => {
  for (const id of readdirSync(root)) rt(root, ['delete', '-f', id]);
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(readdirSync(root), []);
  t.false(IDS.flatMap(cgroupDirsOf).some(existsSync));
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});
