// The defaults, observed in the kernel: namespaces, capabilities,
// no_new_privs, seccomp, the cgroup and its namespace, masked and read-only
// paths, the bridge network, PID 1, the environment. The bridge's host side
// is a namespace of this test's own (networkHost), the only non-default.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { MASKED_PATHS, READONLY_PATHS } from '@nsk/mount';
import { testRootfs } from '@nsk/testkit';
import { capabilityNames } from '../src/capabilities.ts';
import { DEFAULT_CAPABILITIES } from '../src/index.ts';
import { baseline, bits, held, inodes, leftovers, status, statusLines, traces } from './helpers/box.ts';
import { standInHost } from './helpers/stand-in-host.ts';

const host = standInHost(); // first: its fd is open for the whole file
const before = baseline();
const root = testRootfs();
const names: string[] = [];

test.after.always('nothing is left behind: mounts, processes, fds, links, cgroups, leases, files', (t) => {
  t.deepEqual(host.strayVeths(), []);
  t.deepEqual(host.links(), ['lo'], 'the bridge went with its last container');
  for (const n of names) t.deepEqual([...traces(n, host.stateDir), ...traces(n)], [], n);
  host.done();
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

const DOCKER_MASK = 0xa80425fbn;

test('a container with every default: its own namespaces, Docker’s 14 capabilities, no_new_privs, seccomp, a cgroup and its namespace, PID 1', async (t) => {
  const script = [
    'echo "pid=$$"', 'echo "uid=$(id -u):$(id -g)"', 'echo "host=$(hostname)"', 'env | sort',
    'grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status', 'cat /proc/self/cgroup', 'cat /proc/self/mountinfo',
    'ip -o -4 addr show', 'ip route', 'ls /dev',
  ].join('; ');
  const h = await held({ rootfs: root, networkHost: host.networkHost }, script);
  const pid = h.container.pid;
  names.push(h.container.name);
  let outside: Record<string, string>;
  let ns: Record<string, number>;
  let cgroupLines: string[];
  try {
    outside = status(pid);
    ns = inodes(pid);
    cgroupLines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
    t.deepEqual(h.container.state().namespaces.mount, ns.mount);
  } finally {
    h.release();
  }
  const r = await h.done;
  t.is(r.status, 0, r.stderr);

  // Namespaces: every kind but user is new (rootful); checked from the host.
  const self = inodes('self');
  for (const kind of ['mount', 'uts', 'ipc', 'pid', 'net', 'cgroup']) t.not(ns[kind], self[kind], kind);
  t.is(ns.user, self.user);

  // Capabilities: Docker's 14 in the bounding, permitted and effective sets; no inheritable, no ambient.
  for (const k of ['CapEff', 'CapPrm', 'CapBnd']) t.is(BigInt(`0x${outside[k]}`), DOCKER_MASK, k);
  t.deepEqual(capabilityNames(DOCKER_MASK).sort(), [...DEFAULT_CAPABILITIES].sort());
  t.is(outside.CapInh, '0000000000000000');
  t.is(outside.CapAmb, '0000000000000000');
  t.is(outside.NoNewPrivs, '1');
  t.is(outside.Seccomp, '2');
  t.is(outside.Seccomp_filters, '1');
  t.deepEqual(bits(outside.CapBnd!).includes(21), false, 'no CAP_SYS_ADMIN');

  // The cgroup: /nsk-<name> in every hierarchy seen from the host, "/" inside.
  // (Hierarchies whose controllers it does not use keep the group it was born in.)
  const mine = cgroupLines.filter((l) => /^\d+:(memory|pids|[a-z,]*\bcpu\b[a-z,]*|):/.test(l));
  t.true(mine.length >= 3, cgroupLines.join('\n'));
  for (const l of mine) t.true(l.endsWith(`/nsk-${h.container.name}`), l);
  const lines = r.stdout.split('\n');
  const inside = statusLines(r.stdout);
  t.is(inside.CapEff, outside.CapEff);
  const cgInside = lines.filter((l) => /^\d+:[^:]*:\//.test(l) && !l.includes('name='));
  t.true(cgInside.length > 0);
  for (const l of cgInside) t.true(l.endsWith(':/'), l);

  // PID 1, root, the name as hostname, Docker's environment.
  t.true(lines.includes('pid=1'));
  t.true(lines.includes('uid=0:0'));
  t.true(lines.includes(`host=${h.container.name}`));
  t.true(lines.includes('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'));
  t.true(lines.includes(`HOSTNAME=${h.container.name}`));
  t.true(lines.includes('HOME=/root'));

  // Mounts: the rootfs as /, read-only /sys and /proc/sys, masked paths.
  const mounts = new Map(lines.filter((l) => / - /.test(l)).map((l) => {
    const f = l.split(' ');
    return [f[4]!, { options: f[5]!.split(','), fstype: f[f.indexOf('-') + 1]! }] as const;
  }));
  t.is(mounts.get('/sys')?.fstype, 'sysfs');
  t.true(mounts.get('/sys')!.options.includes('ro'));
  t.true(mounts.get('/proc/sys')!.options.includes('ro'));
  // Masked: whatever of runc's list this kernel has is covered (files by /dev/null, directories by a tmpfs).
  const masked = MASKED_PATHS.filter((p) => existsSync(p));
  t.true(masked.length > 0);
  for (const p of masked) t.true(mounts.has(p), `masked: ${p}`);
  for (const p of READONLY_PATHS.filter((x) => existsSync(x))) t.true(mounts.get(p)?.options.includes('ro'), `read-only: ${p}`);
  t.false([...mounts.keys()].some((m) => m.startsWith('/host') || m === '/run/nsk'));

  // The bridge network: eth0 with a 10.88/16 address, a default route.
  t.regex(r.stdout, /eth0\s+inet 10\.88\.\d+\.\d+\/16/);
  t.regex(r.stdout, /default via 10\.88\.0\.1 dev eth0/);
  // Only the devices runc gives.
  for (const d of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm', 'mqueue']) t.true(lines.includes(d), d);
  t.false(lines.includes('sda') || lines.includes('mem') || lines.includes('kmsg'));
});

test('the container’s state() says what it is: name, pid, namespaces, cgroup, capabilities, seccomp, user, network', async (t) => {
  const h = await held({ rootfs: root, network: 'bridge', env: ['A=1'], networkHost: host.networkHost });
  names.push(h.container.name);
  try {
    const s = h.container.state();
    t.is(s.name, h.container.name);
    t.is(s.pid, h.container.pid);
    t.is(s.rootfs, root);
    t.deepEqual(s.namespaces, { ...inodes(h.container.pid), time: s.namespaces.time! });
    t.is(s.cgroup, `/nsk-${s.name}`);
    t.deepEqual([...s.capabilities].sort(), [...DEFAULT_CAPABILITIES].sort());
    t.is(s.seccomp, 'default');
    t.deepEqual(s.user, { uid: 0, gid: 0 });
    t.true(s.env.includes('A=1'));
    t.is(s.cwd, '/');
    t.regex(s.network?.address ?? '', /^10\.88\./);
    t.deepEqual(s.network?.ports, []);
    t.deepEqual(JSON.parse(JSON.stringify(s)), s, 'plain JSON');
    t.false(Number.isNaN(Date.parse(s.startedAt)));
  } finally {
    h.release();
  }
  t.is((await h.done).status, 0);
});
