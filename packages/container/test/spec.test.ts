// Invalid specs fail before anything is created; the pure decisions
// (capabilities, user, PATH search) and the order of the plan.
import test from 'ava';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ValidationError } from '@nsk/syscall';
import { testRootfs } from '@nsk/testkit';
import { DEFAULT_CAPABILITIES, capabilityName, capabilityNames, chooseCapabilities, prepare, type ContainerSpec } from '../src/index.ts';
import { resolveUser } from '../src/user.ts';
import { searchPath } from '../src/path-search.ts';
import { baseline, strayVeths, leftovers, traces } from './helpers/box.ts';
import { standInHost } from './helpers/stand-in-host.ts';

// Opened first: they stay open for the whole file.
const host = standInHost(); // published ports are probed here, not on the machine
const utsFd = openSync('/proc/self/ns/uts', 'r'); // a namespace, but not a network one
const before = baseline();
const root = testRootfs();
const tmp = mkdtempSync(join(tmpdir(), 'nsk-container-spec-'));

test.after.always('nothing is left behind', (t) => {
  rmSync(tmp, { recursive: true, force: true });
  t.deepEqual(strayVeths(), []);
  t.deepEqual(host.links(), ['lo']);
  host.done();
  closeSync(utsFd);
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

const bad: Array<[string, ContainerSpec | Record<string, unknown>, string]> = [
  ['no root at all', {}, 'rootfs'],
  ['rootfs and image', { rootfs: '/', image: 'busybox' }, 'image'],
  ['a relative rootfs', { rootfs: 'rootfs' }, 'rootfs'],
  ['a missing rootfs', { rootfs: '/nonexistent/rootfs' }, 'rootfs'],
  ['an image without a store', { image: 'busybox' }, 'store'],
  ['an unknown option', { colour: 'red' }, 'colour'],
  ['a bad name', { name: '-x' }, 'name'],
  ['an empty command', { command: [] }, 'command'],
  ['a NUL in the command', { command: ['/bin/sh', 'a\0b'] }, 'command[1]'],
  ['env without =', { env: ['FOO'] }, 'env[0]'],
  ['a relative cwd', { cwd: 'tmp' }, 'cwd'],
  ['a cwd missing in the rootfs', { cwd: '/no/such/dir' }, 'cwd'],
  ['a malformed user', { user: 'a:b:c' }, 'user'],
  ['a user not in /etc/passwd', { user: 'alice' }, 'user'],
  ['a group not in /etc/group', { user: 'root:wheel' }, 'user'],
  ['a bad hostname', { hostname: 'web_1' }, 'hostname'],
  ['an unknown network', { network: 'wifi' }, 'network'],
  ['publish without a bridge', { network: 'none', publish: [{ host: 8080, container: 80 }] }, 'publish'],
  ['networkHost without a bridge', { network: 'none', networkHost: {} }, 'networkHost'],
  ['networkHost not an object', { networkHost: 3 }, 'networkHost'],
  ['an unknown networkHost option', { networkHost: { gateway: '10.88.0.1' } }, 'networkHost.gateway'],
  ['networkHost.netns not a namespace', { networkHost: { netns: 0 } }, 'networkHost.netns'],
  ['networkHost.netns closed', { networkHost: { netns: 999 } }, 'networkHost.netns'],
  ['networkHost.netns another kind of namespace', { networkHost: { netns: utsFd } }, 'networkHost.netns'],
  ['a relative networkHost.stateDir', { networkHost: { stateDir: 'net' } }, 'networkHost.stateDir'],
  ['a bridge name longer than IFNAMSIZ-1', { networkHost: { bridge: 'a-bridge-too-long' } }, 'networkHost.bridge'],
  ['a subnet without a prefix', { networkHost: { subnet: '10.88.0.0' } }, 'networkHost.subnet'],
  ['a port out of range', { publish: [{ host: 70000, container: 80 }] }, 'publish[0].host'],
  ['an unknown protocol', { publish: [{ host: 8080, container: 80, protocol: 'sctp' }] }, 'publish[0].protocol'],
  ['a missing volume source', { volumes: [{ host: '/nonexistent/data', container: '/data' }] }, 'volumes[0].host'],
  ['a relative volume target', { volumes: [{ host: '/tmp', container: 'data' }] }, 'volumes[0].container'],
  ['too little memory', { memory: 1000 }, 'memory'],
  ['no CPU', { cpus: 0 }, 'cpus'],
  ['more CPUs than the machine', { cpus: 4096 }, 'cpus'],
  ['a fractional pids limit', { pidsLimit: 1.5 }, 'pidsLimit'],
  ['an unknown capability', { capAdd: ['CAP_FLY'] }, 'capAdd[0]'],
  ['capDrop not a list', { capDrop: 'ALL' }, 'capDrop'],
  ['a missing seccomp profile', { seccomp: '/nonexistent/profile.json' }, 'seccomp'],
  ['a seccomp profile with a bad action', { seccomp: { defaultAction: 'SCMP_ACT_FLY' } }, 'seccomp.defaultAction'],
  ['a seccomp profile that stops execve', { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['execve'], action: 'SCMP_ACT_ERRNO' }] } }, 'seccomp.profile'],
  ['rootless not a boolean', { rootless: 'yes' }, 'rootless'],
  ['a rootless bridge', { rootless: true, network: 'bridge' }, 'network'],
  ['tty not a boolean', { tty: 1 }, 'tty'],
  ['two stdio fds', { stdio: [0, 1] }, 'stdio'],
  ['a closed stdio fd', { stdio: [0, 1, 999] }, 'stdio[2]'],
  ['a bad readonlyRootfs', { readonlyRootfs: 'no' }, 'readonlyRootfs'],
];

for (const [what, spec, field] of bad) {
  test(`refused before anything is created: ${what} (field ${field})`, (t) => {
    const name = `spec-${field.replace(/[^a-z0-9]/gi, '')}`;
    const base = 'image' in spec || what === 'no root at all' ? { name } : { name, rootfs: root };
    const full = { ...base, ...spec } as ContainerSpec;
    const err = t.throws(() => prepare(full), { instanceOf: ValidationError });
    t.is(err?.field, field, err?.message);
    t.deepEqual(traces(name), []);
  });
}

test('a published host port already taken is refused at prepare, naming it', async (t) => {
  const port = 8080;
  const server = await host.occupy(port);
  try {
    const err = t.throws(() => prepare({ rootfs: root, name: 'spec-taken', publish: [{ host: port, container: 80 }], networkHost: host.networkHost }), { instanceOf: ValidationError });
    t.is(err?.field, 'publish[0]');
    t.regex(err!.message, new RegExp(String(port)));
  } finally {
    await server.close();
  }
  t.deepEqual([...traces('spec-taken', host.stateDir), ...traces('spec-taken')], []);
});

test('networkHost goes to the network: explain() names it, and the port is probed there', async (t) => {
  const spec = { rootfs: root, name: 'spec-nethost', command: ['true'], publish: [{ host: 8081, container: 80 }], networkHost: { ...host.networkHost, bridge: 'nskspec0', subnet: '10.99.0.0/24' } };
  const text = prepare(spec).explain();
  t.regex(text, new RegExp(`^network host side: network namespace of fd ${host.ns.fd}, bridge nskspec0, subnet 10\\.99\\.0\\.0/24, leases in ${host.stateDir}$`, 'm'));
  const server = await host.occupy(8081);
  try {
    t.throws(() => prepare(spec), { instanceOf: ValidationError, message: /8081 is already in use/ });
  } finally {
    await server.close();
  }
  t.deepEqual(host.links(), ['lo'], 'prepare and explain create nothing');
  t.deepEqual([...traces('spec-nethost', host.stateDir), ...traces('spec-nethost')], []);
});

test('capabilities follow Docker: defaults, add, drop, ALL', (t) => {
  t.is(DEFAULT_CAPABILITIES.length, 14);
  t.deepEqual(chooseCapabilities(undefined, undefined).keep.length, 14);
  t.is(capabilityName('net_admin'), 'CAP_NET_ADMIN');
  t.is(capabilityName('CAP_SYS_TIME'), 'CAP_SYS_TIME');
  t.is(capabilityName('FLY'), null);
  const added = chooseCapabilities(['NET_ADMIN'], ['CHOWN']);
  t.true(added.keep.includes('CAP_NET_ADMIN'));
  t.false(added.keep.includes('CAP_CHOWN'));
  t.deepEqual(added.added, ['CAP_NET_ADMIN']);
  t.deepEqual(chooseCapabilities(['KILL'], ['ALL']).keep, ['CAP_KILL']);
  t.deepEqual(chooseCapabilities(undefined, ['ALL']).keep, []);
  // ALL is what this process's bounding set holds (capset(2) refuses more).
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
  const all = chooseCapabilities(['ALL'], ['SYS_ADMIN']).keep;
  t.deepEqual(all, capabilityNames(BigInt(`0x${bnd}`)).filter((c) => c !== 'CAP_SYS_ADMIN'));
  t.false(all.includes('CAP_SYS_ADMIN'));
});

test('the PATH search tries each directory in order, the last one without tolerating ENOENT', (t) => {
  t.deepEqual(searchPath('ls', '/usr/bin:/bin'), { path: '/bin/ls', earlier: ['/usr/bin/ls'] });
  t.deepEqual(searchPath('/bin/true', '/usr/bin'), { path: '/bin/true', earlier: [] });
  t.deepEqual(searchPath('x', '/a::/b/'), { path: '/b/x', earlier: ['/a/x', './x'] });
});

test('users are read from the rootfs’s own files, symlinks resolved inside it; a FIFO is refused, not waited on', (t) => {
  const r = join(tmp, 'users');
  mkdirSync(join(r, 'etc'), { recursive: true });
  mkdirSync(join(r, 'data'));
  // An absolute symlink: on the host /data/passwd does not exist; inside the root it does.
  writeFileSync(join(r, 'data/passwd'), 'root:x:0:0:root:/root:/bin/sh\nalice:x:1234:100:Alice:/home/alice:/bin/sh\n');
  symlinkSync('/data/passwd', join(r, 'etc/passwd'));
  writeFileSync(join(r, 'etc/group'), 'users:x:100:\nwheel:x:10:alice,bob\nweb:x:33:alice\n');
  t.deepEqual(resolveUser('alice', [r]), { uid: 1234, gid: 100, groups: [10, 33], home: '/home/alice' });
  t.deepEqual(resolveUser('alice:web', [r]), { uid: 1234, gid: 33, groups: [10], home: '/home/alice' });
  t.deepEqual(resolveUser('4321', [r]), { uid: 4321, gid: 0, groups: [], home: '/' });
  t.deepEqual(resolveUser('1234:7', [r]), { uid: 1234, gid: 7, groups: [10, 33], home: '/home/alice' });
  // ".." cannot climb out: the host's /etc/shadow (which has root) is not reached.
  const up = join(tmp, 'up');
  mkdirSync(join(up, 'etc'), { recursive: true });
  symlinkSync('../../../../../../../../etc/shadow', join(up, 'etc/passwd'));
  t.throws(() => resolveUser('root', [up]), { instanceOf: ValidationError, message: /no user "root"/ });
  const fifo = join(tmp, 'fifo');
  mkdirSync(join(fifo, 'etc'), { recursive: true });
  execFileSync('mkfifo', [join(fifo, 'etc/passwd')]);
  chmodSync(join(fifo, 'etc/passwd'), 0o644);
  t.throws(() => resolveUser('root', [fifo]), { instanceOf: ValidationError, message: /not a regular file/ });
});

test('explain() prints the whole plan in the kernel’s order, and creates nothing', (t) => {
  const p = prepare({ rootfs: root, name: 'spec-explain', command: ['true'], hostname: 'box', network: 'none' });
  const text = p.explain();
  t.regex(text, /^clone\((?=.*CLONE_NEWNET)(?=.*CLONE_NEWPID)(?=.*CLONE_NEWIPC)(?=.*CLONE_NEWUTS)(?=.*CLONE_NEWNS).*SIGCHLD\)$/m);
  // Nothing for the parent to do after clone: the groups exist before it, the child joins them and brings lo up.
  t.regex(text, /^before clone: make cgroup \/nsk-spec-explain /m);
  t.notRegex(text, /parent:/);
  const order = [
    'clone(', 'cgroup.procs", O_WRONLY', '"0", 1)', 'pivot_root(".", ".")', 'sethostname("box"', 'unshare(CLONE_NEWCGROUP)',
    'PR_CAPBSET_DROP, CAP_SYS_ADMIN', 'setresuid(0, 0, 0)', 'capset(', 'PR_SET_NO_NEW_PRIVS', 'seccomp(SECCOMP_SET_MODE_FILTER',
    'execve("/usr/local/sbin/true"', 'execve("/bin/true"',
  ];
  const at = order.map((s) => text.indexOf(s));
  t.false(at.includes(-1), order.filter((_, i) => at[i] === -1).join(', '));
  t.deepEqual(at, [...at].sort((a, b) => a - b));
  t.deepEqual(traces('spec-explain'), []);
});
