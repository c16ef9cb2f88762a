// Outbound NAT, only when asked: a container reaches an "upstream" network
// that has no route back to the bridge subnet only through masquerade, and
// the nft table and ip_forward are undone after the last container.
// Host stand-in H and upstream U are throwaway namespaces:
//   container (10.88.0.x) ─ nsk bridge ─ H ─ up0 10.250.0.1 ═ up1 10.250.0.2 ─ U (server)
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { rootfs } from '@nsk/mount';
import { hostState, leftSince, run, testRootfs } from '@nsk/testkit';
import { Handle, inNetns, netnsNew, network, ownNetnsFd } from '../src/index.ts';
import { boundSocket } from '../src/inet-socket.ts';
import { TAG, scratchNetns } from './helpers.ts';

// nft comes from Debian's nftables package (scripts/setup.sh should list it);
// installed here if missing, as the benches install their peers.
if (spawnSync('sh', ['-c', 'command -v nft']).status !== 0) {
  execFileSync('sh', ['-c', 'apt-get install -y nftables || (apt-get update && apt-get install -y nftables)'], { stdio: 'ignore' });
}
ownNetnsFd();
const root = testRootfs();
const before = hostState();
const hostTables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');

test.serial('NAT off: nothing changes on the host firewall and upstream is unreachable; NAT on: upstream sees the host’s address; both undone after', async (t) => {
  const host = scratchNetns();
  const up = netnsNew();
  const uh = Handle.open({ netns: up.fd });
  const state = mkdtempSync(join(tmpdir(), 'nskt-nat-'));
  // The upstream server answers with the address it sees the client come from.
  const server = createServer((c) => { c.resume(); c.end(`HTTP/1.0 200 OK\r\n\r\nfrom ${c.remoteAddress}\n`); });
  try {
    host.h.linkAdd({ kind: 'veth', name: 'up0', peer: { name: 'up1', netns: { fd: up.fd } } });
    host.h.addrAdd('up0', '10.250.0.1/24');
    host.h.linkSetUp('up0');
    uh.addrAdd('up1', '10.250.0.2/24');
    uh.linkSetUp('up1');
    uh.linkSetUp('lo');
    await new Promise<void>((resolve) => server.listen({ fd: inNetns(up.fd, () => boundSocket('tcp', '10.250.0.2', 8000)) }, resolve));
    t.is((server.address() as AddressInfo).port, 8000);
    const forward = () => inNetns(host.ns.fd, () => readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim());
    const tables = () => inNetns(host.ns.fd, () => execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).trim());
    const opts = { hostNetns: host.ns.fd, stateDir: state, bridge: `${TAG}n` };
    // busybox nc, not wget: Debian's static busybox wget segfaults here.
    const fetch = 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 2 10.250.0.2 8000';

    const plain = await run({ argv: ['/bin/sh', '-c', fetch], features: [network(opts), rootfs({ path: root })] });
    t.not(plain.status, 0, 'without NAT the upstream cannot answer');
    t.is(forward(), '0');
    t.is(tables(), '');

    const natNet = network({ ...opts, nat: true });
    const r = await run({ argv: ['/bin/sh', '-c', fetch] , features: [natNet, rootfs({ path: root })] }, () => {
      t.regex(tables(), new RegExp(`table ip nsk_${TAG}n`));
      t.is(forward(), '1');
    });
    t.is(r.status, 0, r.stderr);
    t.regex(r.stdout, /^HTTP\/1\.0 200 OK\r\n\r\nfrom 10\.250\.0\.1\n$/, 'masqueraded to the host’s upstream address');
    t.is(tables(), '', 'the nft table is gone');
    t.is(forward(), '0', 'ip_forward is back');
    t.deepEqual(host.h.linkList().map((l) => l.name).sort(), ['lo', 'up0']);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    uh.close();
    up.close();
    host.done();
    rmSync(state, { recursive: true, force: true });
  }
});

test('nat needs a bridge network', (t) => {
  t.throws(() => network({ mode: 'none', nat: true }), { code: 'ERR_NSK_INVALID', message: /nat: NAT is for bridge networks/ });
});

test.after.always('nothing is left behind, and the real host firewall and ip_forward are as they were', (t) => {
  t.is(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }), hostTables);
  t.is(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostForward);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});
