// network: none, host, bridge; published ports (tried on loopback only);
// /etc/hosts and /etc/resolv.conf bound over the rootfs's own. Bridge
// containers get a namespace of this test's own as their host
// (networkHost): the machine's network is never touched.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testRootfs } from '@nsk/testkit';
import { baseline, freePort, held, hostLinks, inodes, leftovers, shIn, traces } from './helpers/box.ts';
import { standInHost } from './helpers/stand-in-host.ts';

const host = standInHost(); // first: its fd is open for the whole file
const before = baseline();
const root = testRootfs();
const tmp = mkdtempSync(join(tmpdir(), 'nsk-container-network-'));
const names: string[] = [];

test.after.always('nothing is left behind: no veth, no lease, no files, no proxy', (t) => {
  rmSync(tmp, { recursive: true, force: true });
  t.deepEqual(host.strayVeths(), []);
  t.deepEqual(host.links(), ['lo'], 'the bridge went with its last container');
  for (const n of names) t.deepEqual([...traces(n, host.stateDir), ...traces(n)], [], n);
  host.done();
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

test('none: a network namespace of its own with only lo, up', async (t) => {
  const h = await held({ rootfs: root, network: 'none' }, 'ip -o link show');
  names.push(h.container.name);
  const ns = inodes(h.container.pid);
  h.release();
  const r = await h.done;
  t.not(ns.net, inodes('self').net);
  const ifaces = r.stdout.trim().split('\n').map((l) => l.split(':')[1]!.trim());
  t.deepEqual(ifaces, ['lo']);
  t.regex(r.stdout, /lo: <LOOPBACK,UP,LOWER_UP>/);
});

test('host: the host’s own network namespace', async (t) => {
  const h = await held({ rootfs: root, network: 'host' }, 'ls /sys/class/net');
  names.push(h.container.name);
  const ns = inodes(h.container.pid);
  h.release();
  const r = await h.done;
  t.is(ns.net, inodes('self').net);
  const inside = r.stdout.trim().split(/\s+/);
  for (const l of hostLinks().filter((x) => !x.startsWith('vnsk') && x !== 'nsk0')) t.true(inside.includes(l), l);
});

test('bridge + publish: a host port on 127.0.0.1 reaches the container’s server through the bridge', async (t) => {
  const www = mkdtempSync(join(tmp, 'www-'));
  writeFileSync(join(www, 'index.html'), 'hello from the container\n');
  const port = await freePort();
  const h = await held({ rootfs: root, network: 'bridge', publish: [{ host: port, container: 80 }], volumes: [{ host: www, container: '/www', readonly: true }], networkHost: host.networkHost },
    'httpd -p 80 -h /www; ip -o -4 addr show eth0');
  names.push(h.container.name);
  let body = '';
  try {
    const s = h.container.state();
    t.regex(s.network?.address ?? '', /^10\.88\.\d+\.\d+$/);
    t.deepEqual(s.network?.ports, [`${port}:80/tcp`]);
    // From the host (the stand-in): its 127.0.0.1, where the proxy listens.
    const res = await host.httpGet(port);
    t.regex(res, /^HTTP\/1\.[01] 200 OK/);
    body = res.slice(res.indexOf('\r\n\r\n') + 4);
    // The veth's host end is a port of the bridge — in the stand-in, not on the machine.
    const master = host.ip('-o', 'link', 'show', 'master', 'nsk0');
    const veth = /vnsk[0-9a-f]{8}/.exec(master)?.[0];
    t.truthy(veth, master);
    t.false(hostLinks().includes(veth!), 'the machine’s own namespace has no such link');
  } finally {
    h.release();
  }
  const r = await h.done;
  t.is(body, 'hello from the container\n');
  t.regex(r.stdout, /eth0\s+inet 10\.88\./);
});

test('/etc/hosts and /etc/resolv.conf are the network’s, bound over the rootfs’s own files, which stay unchanged', async (t) => {
  const copy = join(tmp, 'rootfs');
  execFileSync('cp', ['-a', root, copy]);
  writeFileSync(join(copy, 'etc/hosts'), '# the image’s own\n');
  writeFileSync(join(copy, 'etc/resolv.conf'), '# the image’s own\n');
  const r = await shIn({ rootfs: copy, network: 'bridge', hostname: 'web', networkHost: host.networkHost }, 'cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; grep -E " /etc/(hosts|resolv.conf) " /proc/self/mountinfo | wc -l');
  names.push(r.name);
  t.is(r.status, 0, r.stderr);
  const [hosts, , count] = r.stdout.split('---\n');
  t.regex(hosts!, /127\.0\.0\.1\s+localhost/);
  t.regex(hosts!, /10\.88\.\d+\.\d+\s+web/);
  t.is(count!.trim(), '2');
  t.is(readFileSync(join(copy, 'etc/hosts'), 'utf8'), '# the image’s own\n');
  // A rootfs without them (the test rootfs) gets none, and is not written.
  const bare = await shIn({ rootfs: root, network: 'none' }, 'ls /etc');
  t.false(bare.stdout.split(/\s+/).includes('hosts'));
});
