import test from 'ava';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { hostState, leftSince } from '@nsk/testkit';
import { baseConfig, bundle, rt, stateRoot } from './bundle.ts';

const root = stateRoot();
const before = hostState();
const status = (id: string) => JSON.parse(rt(root, ['state', id]).stdout) as { status: string; pid: number; id: string; bundle: string };
const ns = (pid: number | string, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);
const cgroupDirsOf = (id: string) => ['pids', 'memory', 'devices', 'freezer'].map((h) => `/sys/fs/cgroup/${h}/nsk-runtime/${id}`);
/** Ended: no such process, or a zombie its new parent (the subreaper or init: create has exited) has not reaped yet. */
const dead = (pid: number) => { try { return /^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; } };
const gone = async (pid: number) => { for (let i = 0; i < 200 && !dead(pid); i++) await new Promise((r) => setTimeout(r, 10)); };

test.serial('create → created → start → running → kill → stopped → delete; start only once; exec joins it', async (t) => {
  const b = bundle(baseConfig(['sleep', '30']));
  const pidFile = join(b, 'pid');
  const c = rt(root, ['create', '--bundle', b, '--pid-file', pidFile, 'life']);
  t.is(c.code, 0, c.stderr);
  let s = status('life');
  t.is(s.status, 'created');
  t.is(Number(readFileSync(pidFile, 'utf8')), s.pid);
  t.is(s.bundle, b);
  // Created: in namespaces of its own, waiting before the program.
  t.not(ns(s.pid, 'pid'), ns('self', 'pid'));
  t.not(ns(s.pid, 'mnt'), ns('self', 'mnt'));
  t.not(readFileSync(`/proc/${s.pid}/comm`, 'utf8').trim(), 'sleep');
  t.true(cgroupDirsOf('life').every(existsSync), 'its cgroups exist');
  t.is(readFileSync('/sys/fs/cgroup/pids/nsk-runtime/life/pids.max', 'utf8').trim(), '64');
  t.true(readFileSync(`/proc/${s.pid}/cgroup`, 'utf8').includes('/nsk-runtime/life'));

  t.is(rt(root, ['start', 'life']).code, 0);
  s = status('life');
  t.is(s.status, 'running');
  t.is(readFileSync(`/proc/${s.pid}/comm`, 'utf8').trim(), 'sleep');
  t.regex(readFileSync(`/proc/${s.pid}/status`, 'utf8'), /NoNewPrivs:\s+1/);
  const again = rt(root, ['start', 'life']);
  t.is(again.code, 1);
  t.regex(again.stderr, /running, not created/);

  // exec: the same namespaces as PID 1 of the container, and its cgroup.
  const e = rt(root, ['exec', 'life', 'sh', '-c', 'for n in pid mnt net uts ipc cgroup; do readlink /proc/self/ns/$n; done; echo $$; cat /proc/self/cgroup']);
  t.is(e.code, 0, e.stderr);
  const lines = e.stdout.trim().split('\n');
  t.deepEqual(lines.slice(0, 6), ['pid', 'mnt', 'net', 'uts', 'ipc', 'cgroup'].map((k) => ns(s.pid, k)));
  t.not(lines[6], '1');
  t.is(rt(root, ['ps', '--format', 'json', 'life']).stdout.trim(), JSON.stringify([s.pid]));

  const d = rt(root, ['delete', 'life']);
  t.is(d.code, 1, 'a running container is not deleted without --force');
  t.regex(d.stderr, /running/);
  t.is(rt(root, ['kill', 'life', 'KILL']).code, 0);
  await gone(s.pid);
  t.is(status('life').status, 'stopped');
  t.is(rt(root, ['kill', 'life', 'TERM']).code, 1, 'kill of a stopped container fails');
  t.is(rt(root, ['delete', 'life']).code, 0);
  t.false(existsSync(join(root, 'life')));
  t.false(cgroupDirsOf('life').some(existsSync), 'its cgroups are gone');
});

test.serial('kill in the created state (number and SIG name), delete of a created one, delete --force of a running one', async (t) => {
  const b = bundle(baseConfig(['sleep', '30']));
  t.is(rt(root, ['create', '--bundle', b, 'k1']).code, 0);
  const p1 = status('k1').pid;
  t.is(rt(root, ['kill', 'k1', '9']).code, 0);
  await gone(p1);
  t.is(status('k1').status, 'stopped');
  t.is(rt(root, ['delete', 'k1']).code, 0);

  t.is(rt(root, ['create', '--bundle', b, 'k2']).code, 0);
  const p2 = status('k2').pid;
  t.is(rt(root, ['delete', 'k2']).code, 0, 'a created container is deleted (its process killed)');
  t.true(dead(p2));

  t.is(rt(root, ['create', '--bundle', b, 'k3']).code, 0);
  t.is(rt(root, ['start', 'k3']).code, 0);
  const p3 = status('k3').pid;
  t.is(rt(root, ['kill', '--all', 'k3', 'SIGSTOP']).code, 0);
  t.regex(readFileSync(`/proc/${p3}/status`, 'utf8'), /State:\s+T/);
  t.is(rt(root, ['delete', '--force', 'k3']).code, 0);
  t.true(dead(p3));
  t.false(cgroupDirsOf('k3').some(existsSync));
  t.is(rt(root, ['list', '--format', 'json']).stdout.trim(), '[]');
});

test.serial('pause and resume freeze the cgroup', async (t) => {
  const b = bundle(baseConfig(['sleep', '30']));
  t.is(rt(root, ['create', '--bundle', b, 'p1']).code, 0);
  t.is(rt(root, ['start', 'p1']).code, 0);
  t.is(rt(root, ['pause', 'p1']).code, 0);
  t.is(status('p1').status, 'paused');
  t.is(readFileSync('/sys/fs/cgroup/freezer/nsk-runtime/p1/freezer.state', 'utf8').trim(), 'FROZEN');
  t.is(rt(root, ['resume', 'p1']).code, 0);
  t.is(status('p1').status, 'running');
  t.is(rt(root, ['delete', '-f', 'p1']).code, 0);
});

test.serial('sysctls are written before /proc/sys is made read-only (podman sets net.ipv4.ping_group_range)', (t) => {
  const base = baseConfig(['sh', '-c', 'cat /proc/sys/net/ipv4/ping_group_range; echo x > /proc/sys/net/ipv4/ping_group_range || echo read-only']);
  const b = bundle({ ...base, linux: { ...(base.linux as object), sysctl: { 'net.ipv4.ping_group_range': '0 0' } } });
  const r = rt(root, ['run', '--bundle', b, 'sysctl']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n').map((l) => l.replace(/\s+/g, ' ')), ['0 0', 'read-only']);
  t.false(existsSync(join(root, 'sysctl')));
});

test.serial('kubelet’s cpu.period without a quota is taken (a period alone limits nothing)', (t) => {
  const base = baseConfig(['sleep', '30']);
  const linux = base.linux as { resources: Record<string, unknown> };
  const b = bundle({ ...base, linux: { ...linux, resources: { ...linux.resources, cpu: { shares: 2, period: 100000 } } } });
  const r = rt(root, ['create', '--bundle', b, 'kube']);
  t.is(r.code, 0, r.stderr);
  t.is(readFileSync('/sys/fs/cgroup/cpu/nsk-runtime/kube/cpu.shares', 'utf8').trim(), '2');
  t.is(readFileSync('/sys/fs/cgroup/cpu/nsk-runtime/kube/cpu.cfs_quota_us', 'utf8').trim(), '-1');
  t.is(rt(root, ['delete', '--force', 'kube']).code, 0);
});

test.serial('hugepageLimits: the hugetlb controller’s limit per page size (v2 on this host, whose v1 has no hugetlb)', (t) => {
  const base = baseConfig(['sleep', '30']);
  const linux = base.linux as { resources: Record<string, unknown> };
  const b = bundle({ ...base, linux: { ...linux, resources: { ...linux.resources, hugepageLimits: [{ pageSize: '2MB', limit: 8 << 20 }] } } });
  const r = rt(root, ['create', '--bundle', b, 'huge']);
  t.is(r.code, 0, r.stderr);
  const pid = status('huge').pid;
  t.true(readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').includes('0::/nsk-runtime/huge'));
  t.is(readFileSync('/sys/fs/cgroup/unified/nsk-runtime/huge/hugetlb.2MB.max', 'utf8').trim(), String(8 << 20));
  t.is(rt(root, ['delete', '--force', 'huge']).code, 0);
  t.false(existsSync('/sys/fs/cgroup/unified/nsk-runtime/huge'));
});

test.serial('a new time namespace with linux.timeOffsets: the clocks inside are shifted, exec joins it', (t) => {
  const base = baseConfig(['sleep', '30']);
  const linux = base.linux as { namespaces: object[] };
  const b = bundle({ ...base, linux: { ...linux, namespaces: [...linux.namespaces, { type: 'time' }], timeOffsets: { boottime: { secs: 86400 * 365, nanosecs: 0 }, monotonic: { secs: 7200 } } } });
  t.is(rt(root, ['create', '--bundle', b, 'clock']).code, 0);
  t.is(rt(root, ['start', 'clock']).code, 0);
  const pid = status('clock').pid;
  t.not(ns(pid, 'time'), ns('self', 'time'));
  t.regex(readFileSync(`/proc/${pid}/timens_offsets`, 'utf8'), /monotonic\s+7200\s+0\n.*boottime\s+31536000\s+0/s);
  const e = rt(root, ['exec', 'clock', 'sh', '-c', 'readlink /proc/self/ns/time; cut -d" " -f1 /proc/uptime']);
  t.is(e.code, 0, e.stderr);
  const [inode, uptime] = e.stdout.trim().split('\n');
  t.is(inode, ns(pid, 'time'));
  const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  t.true(Math.abs(Number(uptime) - hostUptime - 31536000) < 30, `uptime inside ${uptime}, host ${hostUptime}`);
  t.is(rt(root, ['delete', '--force', 'clock']).code, 0);
  const bad = rt(root, ['create', '--bundle', bundle({ ...base, linux: { ...linux, timeOffsets: { boottime: { secs: 1 } } } }), 'noclock']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /linux\.timeOffsets: offsets are for a new time namespace/);
});

test.serial('an invalid config fails naming the JSON path, and leaves nothing', (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [baseConfig(['true'], { process: { ...(baseConfig(['true']).process as object), apparmorProfile: 'docker-default' } }), /process\.apparmorProfile: cannot be honored/],
    [baseConfig(['true'], { linux: { ...(baseConfig(['true']).linux as object), mountLabel: 'system_u:object_r:container_file_t:s0' } }), /linux\.mountLabel/],
    [baseConfig(['true'], { linux: { ...(baseConfig(['true']).linux as object), namespaces: [{ type: 'mount' }, { type: 'pidd' }] } }), /linux\.namespaces\[1\]\.type/],
    [baseConfig(['true'], { mounts: [{ destination: 'proc', type: 'proc' }] }), /mounts\[0\]\.destination/],
    [baseConfig(['true'], { linux: { ...(baseConfig(['true']).linux as object), cgroupsPath: 'system.slice:nsk:x' } }), /linux\.cgroupsPath.*systemd/],
    [baseConfig(['true'], { process: { ...(baseConfig(['true']).process as object), rlimits: [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }] } }), /process\.rlimits\[0\]\.type/],
    // The program is looked up in the rootfs before anything is made (runc's create does the same).
    [baseConfig(['/no/such/program']), /process\.args\[0\]: \/no\/such\/program: no executable file/],
    [baseConfig(['nosuchprogram']), /process\.args\[0\]: nosuchprogram: executable file not found in \$PATH/],
    [baseConfig(['true'], { linux: { ...(baseConfig(['true']).linux as object), resources: { hugepageLimits: [{ pageSize: '3MB', limit: 0 }] } } }), /linux\.resources\.hugepageLimits\[0\]\.pageSize: this host has no "3MB" huge pages/],
  ];
  for (const [config, re] of cases) {
    const r = rt(root, ['create', '--bundle', bundle(config), 'bad']);
    t.is(r.code, 1);
    t.regex(r.stderr, re);
    t.false(existsSync(join(root, 'bad')));
    t.false(cgroupDirsOf('bad').some(existsSync));
  }
  const sys = rt(root, ['--systemd-cgroup', 'list']);
  t.regex(sys.stderr, /systemd cgroups are not supported/);
});

test.serial('a failing step of the plan fails create and leaves nothing', (t) => {
  const r = rt(root, ['create', '--bundle', bundle(baseConfig(['true'], { process: { ...(baseConfig(['true']).process as object), cwd: '/no/such/dir' } })), 'half']);
  t.is(r.code, 1);
  t.regex(r.stderr, /chdir|\/no\/such\/dir/);
  t.false(existsSync(join(root, 'half')));
  t.false(cgroupDirsOf('half').some(existsSync));
});

test.after.always('nothing left behind', async (t) => {
  for (const id of readdirSync(root)) rt(root, ['delete', '-f', id]);
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(readdirSync(root), []);
  // (the shared parent /nsk-runtime may still hold another test file's containers)
  t.false(['life', 'k1', 'k2', 'k3', 'p1', 'sysctl', 'kube', 'huge', 'clock', 'noclock', 'bad', 'half'].flatMap(cgroupDirsOf).some(existsSync));
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});
