// The rtnetlink API against the kernel, each test in its own throwaway
// namespace, read back through our own dumps and through iproute2's.
import test from 'ava';
import { spawn } from '@nsk/clone';
import { hostState, leftSince } from '@nsk/testkit';
import { IFA_F, Handle, netnsNew, netnsOpen, ownNetnsFd, type Link } from '../src/index.ts';
import { TAG, hostLinks, ipJson, scratchNetns } from './helpers.ts';

ownNetnsFd(); // opened once per process and kept, by design
const before = hostState();
const linksBefore = hostLinks();

interface IpLink { ifindex: number; ifname: string; mtu: number; operstate: string; link_type: string; address?: string; master?: string; flags: string[] }
interface IpAddr { ifindex: number; ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }> }
interface IpRoute { dst: string; gateway?: string; dev?: string; type?: string }

test('a veth pair, a bridge, addresses (IPv4 and IPv6) and routes read back equal to `ip -json`', (t) => {
  const { ns, h, done } = scratchNetns();
  try {
    h.linkAdd({ kind: 'bridge', name: 'br0', mtu: 1400 });
    h.linkAdd({ kind: 'veth', name: 'va', peer: { name: 'vb', hardwareAddr: '02:00:00:00:00:0b' }, mtu: 1400 });
    h.linkSetMaster('va', 'br0');
    h.linkSetHardwareAddr('va', '02:00:00:00:00:0a');
    for (const l of ['br0', 'va', 'vb']) h.linkSetUp(l);
    h.addrAdd('br0', '10.77.0.1/24');
    h.addrAdd('vb', '10.77.0.2/24');
    h.addrAdd('br0', 'fd00:77::1/64', { flags: IFA_F.NODAD });
    h.addrAdd('vb', '10.66.0.1/16', { broadcast: '+' });
    h.routeAdd({ dst: '10.55.0.0/16', gateway: '10.77.0.254', link: 'br0' });
    h.routeAdd({ dst: '10.44.0.7/32', link: 'vb' });
    h.routeAdd({ gateway: '10.77.0.254' });
    h.routeAdd({ dst: 'fd00:99::/64', gateway: 'fd00:77::fe' });

    const links = h.linkList();
    const byIndex = new Map(links.map((l) => [l.index, l]));
    const ours = links.map((l) => ({ ifindex: l.index, ifname: l.name, mtu: l.mtu, operstate: l.operState.toUpperCase(), link_type: l.linkType, address: l.hardwareAddr, master: l.masterIndex === null ? undefined : byIndex.get(l.masterIndex)?.name, up: l.up }));
    const theirs = ipJson<IpLink[]>(ns, 'link', 'show').map((l) => ({ ifindex: l.ifindex, ifname: l.ifname, mtu: l.mtu, operstate: l.operstate, link_type: l.link_type, address: l.address, master: l.master, up: l.flags.includes('UP') }));
    t.deepEqual(ours, theirs);
    t.like(links.find((l) => l.name === 'va'), { kind: 'veth', mtu: 1400, hardwareAddr: '02:00:00:00:00:0a', masterIndex: h.linkByName('br0').index });
    t.is(h.linkByName('vb').hardwareAddr, '02:00:00:00:00:0b');

    const scope = (s: number) => (s === 0 ? 'global' : s === 253 ? 'link' : s === 254 ? 'host' : String(s));
    const ourAddrs = h.addrList().map((a) => `${byIndex.get(a.index)!.name} ${a.family === 2 ? 'inet' : 'inet6'} ${a.address}/${a.prefix} ${scope(a.scope)}`).sort();
    const ipAddrs = ipJson<IpAddr[]>(ns, 'addr', 'show').flatMap((l) => l.addr_info.map((a) => `${l.ifname} ${a.family} ${a.local}/${a.prefixlen} ${a.scope}`)).sort();
    t.deepEqual(ourAddrs, ipAddrs);
    t.true(ourAddrs.includes('br0 inet6 fd00:77::1/64 global'));
    t.is(h.addrList('vb', 4).find((a) => a.address === '10.66.0.1')!.broadcast, '10.66.255.255');

    for (const fam of [4, 6] as const) {
      const show = (dst: string | null, prefix: number, family: number) => dst === null ? 'default' : prefix === (family === 2 ? 32 : 128) ? dst : `${dst}/${prefix}`;
      const ourRoutes = h.routeList(fam).map((r) => `${show(r.dst, r.dstPrefix, r.family)} ${r.gateway ?? '-'} ${r.linkIndex === null ? '-' : byIndex.get(r.linkIndex)!.name}`).sort();
      const ipRoutes = ipJson<IpRoute[]>(ns, `-${fam}`, 'route', 'show', 'table', 'main').map((r) => `${r.type && r.type !== 'unicast' ? `${r.type} ` : ''}${r.dst} ${r.gateway ?? '-'} ${r.dev ?? '-'}`).sort();
      t.deepEqual(ourRoutes, ipRoutes, `IPv${fam} routes`);
    }
    t.true(h.routeList(4).some((r) => r.dst === null && r.gateway === '10.77.0.254'), 'the default route');

    h.routeDel({ gateway: '10.77.0.254' });
    h.routeDel({ dst: '10.55.0.0/16' });
    t.false(h.routeList(4).some((r) => r.dst === null || r.dst === '10.55.0.0'));
    h.addrDel('br0', '10.77.0.1/24');
    t.false(h.addrList('br0').some((a) => a.address === '10.77.0.1'));
    h.linkSetMaster('va', null);
    t.is(h.linkByName('va').masterIndex, null);
    h.linkSetDown('va');
    h.linkSetName('va', 'renamed0');
    t.like(h.linkByName('renamed0'), { up: false });
    h.linkDel('renamed0');
    t.deepEqual(h.linkList().map((l) => l.name).sort(), ['br0', 'lo'], 'deleting one end of a veth deletes both');
  } finally {
    done();
  }
});

test('a veth end moves into another namespace by fd and by pid, and is gone from the first', async (t) => {
  const { ns, h, done } = scratchNetns();
  const other = netnsNew();
  const child = await spawn({ argv: ['/bin/sleep', '30'], namespaces: ['net'], stdio: [null, null, null] });
  try {
    h.linkAdd({ kind: 'veth', name: 'm1', peer: { name: 'm2' } });
    h.linkAdd({ kind: 'veth', name: 'p1', peer: { name: 'p2' } });
    h.linkSetNsFd('m2', other.fd);
    h.linkSetNsPid('p2', child.pid);
    t.deepEqual(h.linkList().map((l) => l.name).sort(), ['lo', 'm1', 'p1']);
    const inOther = Handle.open({ netns: other.fd });
    t.true(inOther.linkList().some((l: Link) => l.name === 'm2' && l.kind === 'veth'));
    inOther.close();
    const childNs = netnsOpen(child.pid);
    const inChild = Handle.open({ netns: childNs.fd });
    t.true(inChild.linkList().some((l) => l.name === 'p2'));
    t.true(ipJson<IpLink[]>(ns, 'link', 'show').every((l) => l.ifname !== 'm2' && l.ifname !== 'p2'));
    inChild.close();
    childNs.close();
  } finally {
    child.kill('SIGKILL');
    await child.exited;
    other.close();
    done();
  }
});

test('kernel refusals become SyscallErrors naming the message, the step and the errno', (t) => {
  const { h, done } = scratchNetns();
  try {
    h.linkAdd({ kind: 'bridge', name: 'd0' });
    const dup = t.throws(() => h.linkAdd({ kind: 'bridge', name: 'd0' }));
    t.like(dup, { name: 'SyscallError', syscall: 'RTM_NEWLINK', errno: 'EEXIST', step: 'create bridge d0' });
    t.like(t.throws(() => h.linkByName('nosuch0')), { syscall: 'RTM_GETLINK', errno: 'ENODEV' });
    t.like(t.throws(() => h.routeAdd({ dst: '10.1.0.0/16', gateway: '10.200.0.1' })), { syscall: 'RTM_NEWROUTE', errno: 'ENETUNREACH' });
    h.addrAdd('d0', '10.9.0.1/24');
    t.like(t.throws(() => h.addrAdd('d0', '10.9.0.1/24')), { syscall: 'RTM_NEWADDR', errno: 'EEXIST' });
    t.regex(dup!.message, /^create bridge d0: RTM_NEWLINK\(bridge d0\): EEXIST/);
  } finally {
    done();
  }
});

test('bad input fails before the kernel is asked: a 16-byte name, a bad MAC, a bad prefix', (t) => {
  const { h, done } = scratchNetns();
  try {
    t.like(t.throws(() => h.linkAdd({ kind: 'bridge', name: `${TAG}-longer-than-15` })), { name: 'ValidationError', field: 'name' });
    t.like(t.throws(() => h.linkAdd({ kind: 'veth', name: 'ok0', peer: { name: 'bad/name' } })), { field: 'peer.name' });
    t.like(t.throws(() => h.linkAdd({ kind: 'bridge', name: 'ok1', hardwareAddr: 'zz:00:00:00:00:00' })), { field: 'hardwareAddr' });
    t.like(t.throws(() => h.addrAdd('lo', '10.0.0.1/40')), { name: 'ValidationError' });
    t.deepEqual(h.linkList().map((l) => l.name), ['lo']);
  } finally {
    done();
  }
});

test('a dump larger than one datagram arrives whole (multipart reply)', (t) => {
  const { h, done } = scratchNetns();
  try {
    for (let i = 0; i < 60; i++) h.linkAdd({ kind: 'bridge', name: `dm${i}` });
    t.is(h.linkList().length, 61);
    for (let i = 0; i < 60; i++) h.addrAdd(`dm${i}`, `10.${i}.0.1/24`);
    t.is(h.addrList(undefined, 4).length, 61);
  } finally {
    done();
  }
});

test.after.always('nothing is left behind: no links on the host, no fds, no children', (t) => {
  t.deepEqual(hostLinks(), linksBefore);
  const left = leftSince(before);
  t.deepEqual(left, { mounts: [], children: [], fds: [] });
});
