// `nsk run`'s flags, end to end through the real binary, each checked by
// looking at the kernel: from inside (/proc/self/status, mounts, ids) and
// from the host (cgroup files, namespace inodes, a published port). "The
// host" of the network is a namespace of this file's own (helpers.ts).
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectFrom } from '@nsk/net';
import { hostState, leftSince } from '@nsk/testkit';
import { cgroupsOf, containersIn, leasesIn, linksOf, machineHasLink, netnsInode, removeLeftovers, nskIn, stateDir, waitFor } from './helpers.ts';

const nsk = nskIn(stateDir());
const before = hostState();
const scratch = mkdtempSync(join(tmpdir(), 'nsk-cli-run-'));
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

const ok = (t: { is(a: unknown, b: unknown, m?: string): void }, r: { status: number | null; stderr: string }) => {
  t.is(r.stderr, '');
  t.is(r.status, 0);
};

test('the README’s first command: pid 1 in a root made from the host’s busybox, no download', (t) => {
  const r = nsk('run', '--name', 'readme', '--', '/bin/sh', '-c', 'echo "pid $$ on $(hostname)"; ls /');
  ok(t, r);
  const [first, ...ls] = r.stdout.trim().split('\n');
  t.is(first, 'pid 1 on readme');
  t.true(ls.join(' ').split(/\s+/).includes('bin'));
  // The shared default root is read-only; /tmp is a tmpfs of the container's own.
  const w = nsk('run', '--net', 'none', '--', 'sh', '-c', 'touch /x 2>&1; touch /tmp/x && echo tmp ok; grep " /tmp " /proc/mounts | cut -d" " -f3');
  t.is(w.stdout, 'touch: /x: Read-only file system\ntmp ok\ntmpfs\n');
});

test('--hostname, -e, -w and -u reach the command', (t) => {
  process.env.NSK_CLI_TEST_VAR = 'from-host';
  const r = nsk('run', '--net', 'none', '--hostname', 'box', '-e', 'A=1', '-e', 'B=two words', '-e', 'NSK_CLI_TEST_VAR', '-w', '/tmp', '-u', '65534:65534', '--',
    'sh', '-c', 'hostname; echo "$A|$B|$NSK_CLI_TEST_VAR"; pwd; id -u; id -g');
  ok(t, r);
  t.deepEqual(r.stdout.trim().split('\n'), ['box', '1|two words|', '/tmp', '65534', '65534']);
});

test('-v binds a host directory, :ro read-only; --read-only makes a --rootfs read-only', (t) => {
  const vol = join(scratch, 'vol');
  const root = join(scratch, 'root');
  writeFileSync(join(scratch, 'probe'), '');
  // A private copy of the default root, writable unless --read-only.
  const cp = nsk('run', '--net', 'none', '-v', `${scratch}:/out`, '--', 'sh', '-c', 'mkdir /out/root /out/vol && echo hello > /out/vol/f && cp -a /bin /etc /out/root/ && mkdir /out/root/proc /out/root/dev /out/root/sys /out/root/tmp');
  ok(t, cp);
  const rw = nsk('run', '--net', 'none', '-v', `${vol}:/data`, '--', 'sh', '-c', 'cat /data/f; echo new > /data/g');
  ok(t, rw);
  t.is(rw.stdout, 'hello\n');
  t.is(readFileSync(join(vol, 'g'), 'utf8'), 'new\n');
  const ro = nsk('run', '--net', 'none', '-v', `${vol}:/data:ro`, '--', 'sh', '-c', 'cat /data/f; touch /data/h 2>&1; true');
  t.is(ro.stdout, 'hello\ntouch: /data/h: Read-only file system\n');
  t.is(nsk('run', '--net', 'none', '--rootfs', root, '--', '/bin/sh', '-c', 'touch /written').status, 0);
  t.deepEqual(readdirSync(root).includes('written'), true);
  const rofs = nsk('run', '--net', 'none', '--read-only', '--rootfs', root, '--', '/bin/sh', '-c', 'touch /again 2>&1; true');
  t.is(rofs.stdout, 'touch: /again: Read-only file system\n');
});

test('--net none has only lo; --net host is the host’s network namespace; bridge gets eth0 with a leased address', (t) => {
  const none = nsk('run', '--net', 'none', '--', 'ls', '/sys/class/net');
  ok(t, none);
  t.is(none.stdout, 'lo\n');
  const host = nsk('run', '--net', 'host', '--', 'readlink', '/proc/self/ns/net');
  ok(t, host);
  t.is(host.stdout.trim(), `net:[${netnsInode(nsk)}]`, 'the namespace nsk ran in');
  const bridge = nsk('run', '--net', 'bridge', '--', 'sh', '-c', 'ls /sys/class/net; ip -4 -o addr show eth0');
  ok(t, bridge);
  t.regex(bridge.stdout, /^eth0\nlo\n2: eth0 +inet 10\.88\.\d+\.\d+\/16 /);
});

test('-p publishes a container port on the host', async (t) => {
  const port = 20000 + (process.pid % 20000);
  const c = nsk.async(['run', '--name', 'published', '-p', `${port}:80`, '--', 'sh', '-c', 'echo hello from the container | nc -l -p 80']);
  // From the namespace nsk ran in: the proxy listens there.
  const fetchOnce = () => new Promise<string | null>((resolve) => {
    const s = connectFrom(nsk.netns!.fd, '127.0.0.1', port);
    let data = '';
    s.on('data', (d) => { data += String(d); });
    s.on('end', () => { s.destroy(); resolve(data || null); });
    s.on('error', () => { s.destroy(); resolve(null); });
  });
  // Until the container listens (the proxy on the host accepts at once, and closes when nothing answers inside).
  let got: string | null = null;
  for (const end = Date.now() + 15_000; got === null && Date.now() < end;) {
    got = await fetchOnce();
    if (got === null) await new Promise((r) => setTimeout(r, 100));
  }
  t.is(got, 'hello from the container\n');
  const r = await c;
  t.is(r.status, 0);
});

test('--memory, --cpus and --pids-limit are the container’s cgroup limits', async (t) => {
  const c = nsk.async(['run', '--net', 'none', '--name', 'limited', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '20', '--', 'sleep', '30']);
  const dirs = await waitFor(() => { const d = cgroupsOf('nsk-limited'); return d.length ? d : null; }, 15_000, 'the cgroup');
  const file = (names: string[]) => {
    for (const d of dirs) for (const n of names) {
      try { return readFileSync(join(d, n), 'utf8').trim(); } catch { /* not this hierarchy */ }
    }
    return null;
  };
  await waitFor(() => file(['pids.max']) === '20', 5000, 'pids.max');
  t.is(file(['memory.limit_in_bytes', 'memory.max']), String(64 * 1024 * 1024));
  t.true(['50000', '50000 100000'].includes(file(['cpu.cfs_quota_us', 'cpu.max'])!));
  t.is(file(['pids.max']), '20');
  t.is(nsk('kill', 'limited').status, 0);
  t.is((await c).status, 137);
  t.deepEqual(cgroupsOf('nsk-limited'), []);
});

test('--cap-drop/--cap-add set the capabilities; the default is docker’s 14', (t) => {
  const caps = (...flags: string[]) => nsk('run', '--net', 'none', ...flags, '--', 'sh', '-c', 'grep -E "^Cap(Eff|Bnd)" /proc/self/status').stdout;
  t.is(caps(), 'CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n');
  t.is(caps('--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN'), 'CapEff:\t0000000000001000\nCapBnd:\t0000000000001000\n');
  t.is(caps('--cap-drop', 'CHOWN'), 'CapEff:\t00000000a80425fa\nCapBnd:\t00000000a80425fa\n');
});

test('--seccomp: the default filter, none with unconfined, or a profile file', (t) => {
  const status = (...flags: string[]) => nsk('run', '--net', 'none', ...flags, '--', 'sh', '-c', 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; mkdir /tmp/d 2>&1; true').stdout;
  t.is(status(), 'NoNewPrivs:\t1\nSeccomp:\t2\n');
  t.is(status('--seccomp', 'unconfined'), 'NoNewPrivs:\t1\nSeccomp:\t0\n');
  const profile = join(scratch, 'no-mkdir.json');
  writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
  t.is(status('--seccomp', profile), 'NoNewPrivs:\t1\nSeccomp:\t2\nmkdir: can\'t create directory \'/tmp/d\': Operation not permitted\n');
});

test('--rootless: a user namespace of its own, root inside', (t) => {
  const r = nsk('run', '--rootless', '--', 'sh', '-c', 'readlink /proc/self/ns/user; id -u; cat /proc/self/uid_map');
  ok(t, r);
  const [userns, uid, map] = r.stdout.trim().split('\n');
  t.not(userns, readlinkSync('/proc/self/ns/user'));
  t.is(uid, '0');
  t.notRegex(map!, /4294967295/); // not the initial namespace's identity map
});

test('--explain prints the parent’s steps and the child’s system calls, and creates nothing', (t) => {
  const r = nsk('run', '--explain', '--name', 'explained', '--hostname', 'x', '--memory', '64m', '--', '/bin/true');
  ok(t, r);
  t.regex(r.stdout, /^container explained: rootfs \/\S+, rootful, network bridge$/m);
  t.regex(r.stdout, /clone\(CLONE_NEW\w+(\|CLONE_NEW\w+)+\|SIGCHLD\)/);
  t.regex(r.stdout, /cgroup \/nsk-explained/);
  t.regex(r.stdout, /pivot_root\(/);
  t.regex(r.stdout, /sethostname\("x", 1\)/);
  t.regex(r.stdout, /seccomp\(SECCOMP_SET_MODE_FILTER/);
  t.regex(r.stdout, /execve\("\/bin\/true"/);
  t.false(containersIn(nsk.state).includes('explained'));
  t.deepEqual(cgroupsOf('nsk-explained'), []);
});

test('a bridge lives in the namespace nsk runs in, its lease and /etc files under NSK_STATE_DIR/net; the supervisor stays there', async (t) => {
  const up = nsk('run', '-d', '--name', 'bridged', '--', 'sleep', '60');
  ok(t, up);
  const rec = JSON.parse(readFileSync(join(nsk.state, 'containers/bridged/state.json'), 'utf8')) as { supervisor: { pid: number }; network: { address: string; stateDir: string; bridge: string; hostNetns: number } };
  t.like(rec.network, { stateDir: join(nsk.state, 'net'), bridge: 'nsk0', hostNetns: netnsInode(nsk) });
  const lease = Object.entries(leasesIn(join(nsk.state, 'net'))!.leases).find(([, l]) => l.id === 'bridged');
  t.is(lease?.[0], rec.network.address);
  const veth = lease![1].veth;
  t.true(linksOf(nsk).includes(veth), 'the veth’s host end is in the test’s namespace');
  t.true(linksOf(nsk).includes('nsk0'));
  t.false(machineHasLink(veth), 'and not in the machine’s');
  t.true(readFileSync(join(nsk.state, 'net/containers/bridged/hosts'), 'utf8').includes(rec.network.address));
  t.is(readlinkSync(`/proc/${rec.supervisor.pid}/ns/net`), `net:[${netnsInode(nsk)}]`, 'the detached supervisor inherited it');
  t.is(nsk('rm', '-f', 'bridged').status, 0);
  await waitFor(() => !linksOf(nsk).includes(veth), 5000, 'the veth to go');
  t.false(Object.values(leasesIn(join(nsk.state, 'net'))!.leases).some((l) => l.id === 'bridged'));
});

test.after.always('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
  t.deepEqual(removeLeftovers(nsk), []);
  // The bridge went with the last container; the machine's network state never saw this file's.
  t.deepEqual(linksOf(nsk), ['lo']);
  t.deepEqual(leasesIn(join(nsk.state, 'net'))?.leases ?? {}, {});
  const machine = leasesIn('/var/lib/nsk/net');
  t.deepEqual(Object.values(machine?.leases ?? {}).filter((l) => ['readme', 'published', 'bridged'].includes(l.id)), []);
});
