// The network Feature end to end: containers on a bridge, a published port,
// and nothing left once they end. The "host" here is a throwaway namespace
// (hostNetns), so the machine's own interfaces are never touched.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { MS, type ValidationError } from '@nsk/syscall';
import { spawn, type Feature } from '@nsk/clone';
import { rootfs } from '@nsk/mount';
import { hostState, leftSince, run, testRootfs } from '@nsk/testkit';
import { Handle, inNetns, netnsOpen, network, ownNetnsFd, type NetworkOptions } from '../src/index.ts';
import { boundSocket } from '../src/inet-socket.ts';
import { TAG, hostLinks, httpGetRetry, ipJson, scratchNetns } from './helpers.ts';

ownNetnsFd();
const root = testRootfs();
writeFileSync(join(root, 'etc/hosts'), '');
writeFileSync(join(root, 'etc/resolv.conf'), '');
const before = hostState();
const linksBefore = hostLinks();
const stateBase = mkdtempSync(join(tmpdir(), 'nskt-net-state-'));
let n = 0;

/** A host stand-in namespace, a state dir, and a bridge name unique to this test. */
function lab(): { opts: NetworkOptions; host: ReturnType<typeof scratchNetns>; state: string } {
  const host = scratchNetns();
  const state = join(stateBase, String(n++));
  return { host, state, opts: { hostNetns: host.ns.fd, stateDir: state, bridge: `${TAG}b${n}`, subnet: '10.88.0.0/16' } };
}

function refuses(t: ExecutionContext, o: NetworkOptions, field: string, message: RegExp): void {
  const e = t.throws(() => network(o), { name: 'ValidationError' }) as ValidationError | undefined;
  t.is(e?.field, field);
  t.regex(e?.message ?? '', message);
}

const busybox = (script: string) => ['/bin/sh', '-c', script];
const linkNames = (h: Handle) => h.linkList().map((l) => l.name).sort();

test('two containers ping each other over the bridge; the host gets HTTP 200 through a published port; all of it goes when they end', async (t) => {
  const { opts, host, state } = lab();
  try {
    writeFileSync(join(root, `var/www/index-${process.pid}.html`), 'hello from the container\n');
    const web = network({ ...opts, publish: ['8080:80'], hostname: 'web' });
    const server = await spawn({ argv: busybox('exec httpd -f -p 80 -h /var/www'), namespaces: ['pid', 'uts'], features: [web, rootfs({ path: root })], stdio: [null, null, null] });
    const a = web.attachment!;
    t.like(a, { address: '10.88.0.2', gateway: '10.88.0.1', prefix: 16, containerIf: 'eth0', bridge: opts.bridge });
    t.deepEqual(a.ports.map((p) => p.hostPort), [8080]);

    // the bridge and the veth's host end, seen by iproute2 in the host namespace
    const links = ipJson<Array<{ ifname: string; master?: string }>>(host.ns, 'link', 'show');
    t.true(links.some((l) => l.ifname === opts.bridge));
    t.true(links.some((l) => l.ifname === a.hostVeth && l.master === opts.bridge));
    // inside: eth0 with the address and a default route via the bridge
    const inside = netnsOpen(server.pid);
    t.deepEqual(ipJson<Array<{ dst: string; gateway?: string; dev: string }>>(inside, 'route').map((r) => `${r.dst} ${r.gateway ?? '-'} ${r.dev}`).sort(), ['10.88.0.0/16 - eth0', 'default 10.88.0.1 eth0']);
    t.true(ipJson<Array<{ ifname: string; flags: string[] }>>(inside, 'link').every((l) => l.flags.includes('UP')), 'lo and eth0 are up');
    inside.close();

    const client = network(opts);
    const ping = await run({ argv: busybox(`ping -c 2 -W 2 ${a.address}`), namespaces: ['pid'], features: [client, rootfs({ path: root })] });
    t.is(ping.status, 0, ping.stdout + ping.stderr);
    t.regex(ping.stdout, /2 packets transmitted, 2 packets received/);
    t.deepEqual(linkNames(host.h), [opts.bridge!, a.hostVeth, 'lo'].sort(), 'the client’s veth went with it');

    const res = await httpGetRetry(host.ns, '127.0.0.1', 8080, `/index-${process.pid}.html`);
    t.regex(res, /^HTTP\/1\.[01] 200 OK/);
    t.regex(res, /hello from the container/);

    server.kill('SIGKILL');
    t.is((await server.exited).signal, 'SIGKILL');
    t.deepEqual(linkNames(host.h), ['lo'], 'no veth, and the bridge we created is gone');
    t.deepEqual(JSON.parse(readFileSync(join(state, opts.bridge!, 'leases.json'), 'utf8')).leases, {}, 'no lease');
    t.regex(await httpGetRetry(host.ns, '127.0.0.1', 8080, '/', 0), /ECONNREFUSED/, 'no proxy listener');
    t.notThrows(() => network({ ...opts, publish: ['8080:80'] }), 'the port is free again');
    t.deepEqual(readdirSync(join(state, 'containers')), [], 'no /etc files');
  } finally {
    host.done();
  }
});

test('a bridge that was there before stays after the last container; a fixed address is honoured', async (t) => {
  const { opts, host } = lab();
  try {
    host.h.linkAdd({ kind: 'bridge', name: opts.bridge!, up: true });
    host.h.addrAdd(opts.bridge!, '10.88.0.1/16');
    const net = network({ ...opts, ip: '10.88.3.4' });
    const r = await run({ argv: busybox('ip -4 -o addr show dev eth0'), features: [net, rootfs({ path: root })] });
    t.regex(r.stdout, /inet 10\.88\.3\.4\/16/);
    t.deepEqual(linkNames(host.h), [opts.bridge!, 'lo'].sort());
  } finally {
    host.done();
  }
});

test('mode none: a namespace of its own with only lo, up', async (t) => {
  const { opts, host } = lab();
  try {
    const net = network({ ...opts, mode: 'none' });
    const r = await run({ argv: busybox('ip -o link; echo ---; ip -4 -o addr'), features: [net, rootfs({ path: root })] });
    t.is(r.status, 0, r.stderr);
    const links = r.stdout.split('---')[0]!.split('\n').filter((l) => /^\d+: /.test(l));
    t.is(links.length, 1);
    t.regex(links[0]!, /^1: lo: <LOOPBACK,UP,LOWER_UP>/);
    t.regex(r.stdout, /inet 127\.0\.0\.1\/8/);
    t.deepEqual(linkNames(host.h), ['lo']);
  } finally {
    host.done();
  }
});

test('mode host: no new namespace, no parent work', (t) => {
  const net = network({ mode: 'host' });
  t.is(net.cloneFlags, undefined);
  t.is(net.parent, undefined);
  t.is(net.files, null);
});

test('/etc/hosts and /etc/resolv.conf: content exposed, files written by parent, bound by the caller, removed after', async (t) => {
  const { opts, host } = lab();
  try {
    const net = network({ ...opts, hostname: 'box1', dns: ['10.88.0.1', '127.0.0.53'] });
    const files = net.files!;
    // The caller's part: bind the files onto the rootfs before it becomes the root.
    const bindEtc: Feature = {
      name: 'bind-etc',
      plan(plan) {
        plan.mount(null, '/', null, MS.REC | MS.PRIVATE);
        plan.mount(files.hosts, `${root}/etc/hosts`, null, MS.BIND);
        plan.mount(files.resolvConf, `${root}/etc/resolv.conf`, null, MS.BIND);
      },
    };
    const r = await run({ argv: busybox('cat /etc/hosts /etc/resolv.conf'), features: [net, bindEtc, rootfs({ path: root })] });
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /^10\.88\.0\.2\tbox1$/m);
    t.regex(r.stdout, /^127\.0\.0\.1\tlocalhost$/m);
    t.regex(r.stdout, /^nameserver 10\.88\.0\.1$/m);
    t.notRegex(r.stdout, /127\.0\.0\.53/, 'a loopback resolver is useless inside');
    t.is(net.hosts(), '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.88.0.2\tbox1\n');
    t.false(existsSync(files.hosts));
    t.is(readFileSync(join(root, 'etc/hosts'), 'utf8'), '', 'the rootfs itself was not written');
  } finally {
    host.done();
  }
});

test('bad input fails before anything is created: address outside the subnet, port in use, 16-byte bridge name', async (t) => {
  const { opts, host, state } = lab();
  const busy = createServer();
  try {
    const fd = inNetns(host.ns.fd, () => boundSocket('tcp', '0.0.0.0', 9090));
    await new Promise<void>((resolve) => busy.listen({ fd }, resolve));
    t.like(t.throws(() => network({ ...opts, ip: '10.99.0.5' })), { name: 'ValidationError', field: 'ip', message: 'ip: 10.99.0.5 is outside the subnet 10.88.0.0/16' });
    refuses(t, { ...opts, ip: '10.88.0.1' }, 'ip', /is the gateway/);
    refuses(t, { ...opts, publish: ['9090:80'] }, 'publish[0]', /host tcp port 0\.0\.0\.0:9090 is already in use \(bind: EADDRINUSE\)/);
    refuses(t, { ...opts, bridge: 'nsk-bridge-16byt' }, 'bridge', /at most 15 \(IFNAMSIZ-1\)/);
    t.like(t.throws(() => network({ ...opts, publish: ['80'] })), { field: 'publish[0]' });
    t.like(t.throws(() => network({ ...opts, mode: 'none', publish: ['8081:80'] })), { field: 'publish' });
    t.deepEqual(linkNames(host.h), ['lo'], 'no link was made');
    t.false(existsSync(state), 'no state was written');
  } finally {
    await new Promise((resolve) => busy.close(resolve));
    host.done();
  }
});

test('a container that fails to start releases what parent made', async (t) => {
  const { opts, host, state } = lab();
  try {
    const net = network(opts);
    await t.throwsAsync(spawn({ argv: ['/no/such/program'], features: [net, rootfs({ path: root })] }), { code: 'ENOENT' });
    t.deepEqual(linkNames(host.h), ['lo']);
    t.deepEqual(JSON.parse(readFileSync(join(state, opts.bridge!, 'leases.json'), 'utf8')).leases, {});
  } finally {
    host.done();
  }
});

test.after.always('nothing is left behind: no links on the host, no fds, no children, no mounts', (t) => {
  rmSync(stateBase, { recursive: true, force: true });
  t.deepEqual(hostLinks(), linksBefore);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});
