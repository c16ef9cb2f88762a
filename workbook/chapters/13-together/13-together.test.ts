// Chapter 13's claims, on the same data the chapter prints.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ownNetnsFd } from '@nsk/net';
import { hostState, leftSince } from '@nsk/testkit';
import { MILESTONES, PAGE, together, type Together } from './index.ts';

ownNetnsFd(); // @nsk/net keeps this one fd open for the process's life
const before = hostState();
// Links on the machine this chapter could have made (other tests may add their own meanwhile).
const ourKind = (): string[] => execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter((n) => /^(v?nsk|veth)/.test(n)).sort();
const linksBefore = ourKind();
const REAL_LEASES = '/var/lib/nsk/net/nsk0/leases.json';
const realLeases = () => (existsSync(REAL_LEASES) ? readFileSync(REAL_LEASES, 'utf8') : '');

let r: Together;
test.before(async () => { r = await together(); });

test('explain() shows the kernel’s order: clone, the network wired by the parent, cgroups, mounts, pivot_root, masks, hostname, cgroup namespace, capabilities, no_new_privs, seccomp, execve', (t) => {
  const at = r.composition.steps.map((s) => s.index);
  t.false(at.includes(-1), r.composition.steps.filter((s) => s.index < 0).map((s) => s.label).join(', '));
  t.deepEqual(at, [...at].sort((a, b) => a - b), 'in that order');
  t.is(r.composition.steps.length, MILESTONES.length);
  t.regex(r.composition.head.join('\n'), /^network host side: network namespace of fd \d+, bridge nsk0, subnet 10\.88\.0\.0\/16/m);
  t.regex(r.composition.steps[0]!.line, /^clone\((?=.*CLONE_NEWNET)(?=.*CLONE_NEWPID)(?=.*CLONE_NEWIPC)(?=.*CLONE_NEWUTS)(?=.*CLONE_NEWNS)/);
});

test('the limits are in the group’s files: 64 MiB of memory, half a CPU (50000 µs per 100000 µs), 32 pids', (t) => {
  t.true(r.limits.length >= 3);
  for (const l of r.limits) t.is(l.value, l.wanted, l.path);
  const value = (re: RegExp) => r.limits.find((l) => re.test(l.path))?.value;
  t.is(value(/memory\.(limit_in_bytes|max)$/), String(64 << 20));
  t.is(value(/pids\.max$/), '32');
  const cpuMax = value(/cpu\.max$/);
  if (cpuMax !== undefined) t.is(cpuMax, '50000 100000');
  else t.deepEqual([value(/cpu\.cfs_quota_us$/), value(/cpu\.cfs_period_us$/)], ['50000', '100000']);
  const lines = r.confinement.cgroup.trim().split('\n').filter((l) => !l.includes('name='));
  for (const l of lines) t.true(l.endsWith(`:${r.state.cgroup}`), l);
});

test('the server, seen from the host: Docker’s 14 capabilities and no others, no_new_privs, a seccomp filter, every namespace but user and time its own', (t) => {
  const s = r.confinement.status;
  t.is(s.CapEff, '00000000a80425fb');
  t.is(s.CapPrm, '00000000a80425fb');
  t.is(s.CapBnd, '00000000a80425fb');
  t.is(s.CapInh, '0000000000000000');
  t.is(s.CapAmb, '0000000000000000');
  t.is(r.confinement.capabilities.length, 14);
  t.false(r.confinement.capabilities.includes('CAP_SYS_ADMIN'));
  t.is(s.NoNewPrivs, '1');
  t.is(s.Seccomp, '2');
  for (const k of ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup']) t.not(r.confinement.namespaces[k]![0], r.confinement.namespaces[k]![1], k);
  t.is(r.confinement.namespaces.user![0], r.confinement.namespaces.user![1]);
});

test('the host gets the page through the published port; the network lives in the stand-in host', (t) => {
  t.regex(r.http, /^HTTP\/1\.[01] 200 OK\r\n/);
  t.true(r.http.endsWith(`\r\n\r\n${PAGE}`));
  t.regex(r.state.network?.address ?? '', /^10\.88\.\d+\.\d+$/);
  t.deepEqual(r.state.network?.ports, ['8080:80/tcp']);
  t.true(r.during.hostLinks.includes('nsk0'));
  t.is(r.during.hostLinks.filter((l) => l.startsWith('vnsk')).length, 1);
  t.deepEqual(r.during.leases, [r.state.network!.address]);
  t.true(r.during.netFiles && r.during.alive && r.during.portAnswers);
  t.true(r.during.cgroups.length >= 3);
});

test('stopped (SIGTERM ignored by PID 1, then SIGKILL), nothing of it is left: no veth, bridge, lease, /etc files, cgroup, process or listener', (t) => {
  t.true(r.stopped.ignoredTerm, 'httpd as PID 1 has no SIGTERM handler');
  t.is(r.stopped.status.signal, 'SIGKILL');
  t.is(r.stopped.status.status, 137);
  t.is(r.stopped.status.cleanupErrors, undefined);
  t.deepEqual(r.after, { hostLinks: ['lo'], leases: [], netFiles: false, cgroups: [], alive: false, portAnswers: false });
});

test.after.always('nothing is left on the machine: no mount, child, fd, link or lease of ours', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
  t.deepEqual(ourKind(), linksBefore);
  t.false(realLeases().includes(`web-${process.pid}`), 'no lease in /var/lib/nsk/net');
});
