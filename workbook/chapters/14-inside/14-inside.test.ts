// Chapter 14's claims, on the same data the chapter prints.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { detectLayout } from '@nsk/cgroup';
import { MASKED_PATHS, READONLY_PATHS } from '@nsk/mount';
import { ownNetnsFd } from '@nsk/net';
import { hostState, leftSince } from '@nsk/testkit';
import { addresses, inside, insideNamespaces, parseMountinfo, type Inside } from './index.ts';

ownNetnsFd(); // @nsk/net keeps this one fd open for the process's life
const before = hostState();
const ourKind = (): string[] => execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter((n) => /^(v?nsk|veth)/.test(n)).sort();
const linksBefore = ourKind();

let r: Inside;
test.before(async () => { r = await inside(); });

test('the exec’d shell ran to the end and exited 0', (t) => {
  t.is(r.exit.status, 0);
  t.is(r.exit.code, 0);
});

test('ps inside: PID 1 is httpd, the shell and its ps are there; the host sees the same processes under other pids', (t) => {
  const rows = r.inside.ps.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)).map(([pid, comm]) => ({ pid: Number(pid), comm }));
  t.deepEqual(rows[0], { pid: 1, comm: 'httpd' });
  t.deepEqual(rows.map((x) => x.comm).sort(), ['httpd', 'ps', 'sh']);
  const sh = rows.find((x) => x.comm === 'sh')!;
  t.deepEqual(r.host.ps, [
    { hostPid: r.state.pid, pid: 1, comm: 'httpd' },
    { hostPid: r.execPid, pid: sh.pid, comm: 'sh' },
  ]);
  t.not(r.execPid, sh.pid);
});

test('hostname: the container’s own', (t) => {
  t.is(r.inside.hostname.trim(), 'web');
  t.not(r.host.hostname, 'web');
});

test('mounts: / is the rootfs, pivot_root’ed; /sys read-only; runc’s masked and read-only paths in place; none of the host’s own mounts', (t) => {
  const mounts = parseMountinfo(r.inside.mounts);
  const root = mounts.filter((m) => m.mountPoint === '/');
  t.is(root.length, 1, 'one / : the old root is gone');
  t.is(root[0]!.root, r.state.rootfs);
  const top = (p: string) => mounts.filter((m) => m.mountPoint === p).at(-1);
  t.is(top('/sys')?.fstype, 'sysfs');
  t.true(top('/sys')!.options.includes('ro'));
  const masked = MASKED_PATHS.filter((p) => existsSync(p));
  t.true(masked.length > 0);
  for (const p of masked) t.truthy(top(p), `masked: ${p}`);
  for (const p of READONLY_PATHS.filter((x) => existsSync(x))) t.true(top(p)?.options.includes('ro'), `read-only: ${p}`);
  const inside = new Set(mounts.map((m) => m.mountPoint));
  const hostOnly = parseMountinfo(r.host.mounts).map((m) => m.mountPoint).filter((p) => p !== '/' && !/^\/(proc|sys|dev)(\/|$)/.test(p));
  t.deepEqual(hostOnly.filter((p) => inside.has(p)), [], 'no mount point of the host’s own');
  t.false([...inside].some((p) => p.startsWith('/sys/fs/cgroup')));
});

test('ip addr: lo and eth0 with its address on the bridge; the bridge’s address is in the stand-in host; no address of the machine inside', (t) => {
  t.deepEqual(addresses(r.inside.ip), ['lo 127.0.0.1/8', `eth0 ${r.state.network!.address}/16`]);
  t.true(addresses(r.host.ip).includes('nsk0 10.88.0.1/16'));
  const machine = Object.values(networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address);
  t.deepEqual(addresses(r.inside.ip).filter((a) => machine.includes(a.split(' ')[1]!.split('/')[0]!)), []);
});

test('cgroup: / in every hierarchy inside; the container’s group from the host', (t) => {
  const inside = r.inside.cgroup.trim().split('\n').filter((l) => !l.includes('name='));
  t.true(inside.length >= 3);
  for (const l of inside) t.true(l.endsWith(':/'), l);
  const host = r.host.cgroup.trim().split('\n').filter((l) => !l.includes('name='));
  for (const l of host) t.true(l.endsWith(`:${r.state.cgroup}`), l);
});

test('the exec’d shell is in every namespace of the container (host’s and its own readlink agree) and as confined as PID 1', (t) => {
  const own = insideNamespaces(r.inside.ns);
  for (const [k, v] of Object.entries(r.host.ns.container)) {
    t.is(r.host.ns.exec[k], v, `exec'd ${k}`);
    t.is(own[k], v, `readlink inside ${k}`);
  }
  for (const k of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts']) t.not(r.host.ns.container[k], r.host.ns.host[k], k);
  t.deepEqual(r.host.status.exec, r.host.status.pid1);
  t.deepEqual(r.host.status.exec, { CapEff: '00000000a80425fb', NoNewPrivs: '1', Seccomp: '2' });
  t.regex(r.inside.status, /^CapEff:\s+00000000a80425fb$/m);
});

test.after.always('nothing is left: no mount, child, fd, cgroup or link of ours', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
  t.deepEqual(ourKind(), linksBefore);
  const l = detectLayout();
  const roots = [...l.v1.map((h) => h.mountPoint), ...(l.v2 ? [l.v2.mountPoint] : [])];
  t.deepEqual(roots.flatMap((d) => readdirSync(d).filter((n) => n === `nsk-web-${process.pid}`).map((n) => join(d, n))), []);
});
