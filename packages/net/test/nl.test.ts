// The wire format, byte for byte, with no kernel involved.
import test from 'ava';
import { encodeMessage, decodeMessages, decodeError } from '../src/nl/message.ts';
import { NlWriter, attrMap, parseAttrs, readStr, readU32 } from '../src/nl/attr.ts';
import { writeLinkAdd, writeLinkChange, decodeLink } from '../src/nl/link.ts';
import { writeAddr, decodeAddr } from '../src/nl/addr.ts';
import { writeRoute, decodeRoute } from '../src/nl/route.ts';
import { IFLA, IFLA_INFO, NLM_F, NLMSG, RTM, VETH_INFO_PEER } from '../src/nl/consts.ts';
import { cidrContains, ipBytes, ipString, nthAddress, parseCidr } from '../src/ip.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('`ip link set dev #5 up` is a 32-byte RTM_NEWLINK with IFF_UP in flags and change', (t) => {
  const m = encodeMessage(RTM.NEWLINK, NLM_F.REQUEST | NLM_F.ACK, 7, (w) => writeLinkChange(w, 5, { up: true }));
  t.is(hex(m), '20000000' + '1000' + '0500' + '07000000' + '00000000' + '00000000' + '05000000' + '01000000' + '01000000');
});

test('`ip route add default via 10.88.0.1` is rtmsg{inet, table main, proto boot, unicast} + RTA_GATEWAY', (t) => {
  const m = encodeMessage(RTM.NEWROUTE, NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, 1, (w) =>
    writeRoute(w, { family: 2, dst: null, dstPrefix: 0, gateway: '10.88.0.1' }));
  t.is(hex(m), '24000000' + '1800' + '0506' + '01000000' + '00000000' + '020000' + '00' + 'fe' + '03' + '00' + '01' + '00000000' + '0800' + '0500' + '0a580001');
});

test('`ip addr add 10.88.0.2/16 dev #3` sends IFA_LOCAL and IFA_ADDRESS', (t) => {
  const w = new NlWriter();
  writeAddr(w, 3, parseCidr('10.88.0.2/16'));
  t.is(hex(w.finish()), '02' + '10' + '00' + '00' + '03000000' + '0800' + '0200' + '0a580002' + '0800' + '0100' + '0a580002');
  const a = decodeAddr(w.finish());
  t.like(a, { index: 3, family: 2, address: '10.88.0.2', prefix: 16, peer: null });
});

test('a veth request nests its peer (ifinfomsg + attributes) in LINKINFO/INFO_DATA/VETH_INFO_PEER', (t) => {
  const w = new NlWriter();
  writeLinkAdd(w, { kind: 'veth', name: 'va', up: true, masterIndex: 4, peer: { name: 'eth0', netns: { fd: 9 } } });
  const body = w.finish();
  t.is(new DataView(body.buffer).getUint32(8, true), 1, 'IFF_UP in ifi_flags');
  const a = attrMap(body, 16);
  t.is(readStr(a.get(IFLA.IFNAME)!), 'va');
  t.is(readU32(a.get(IFLA.MASTER)!), 4);
  const info = attrMap(a.get(IFLA.LINKINFO)!);
  t.is(readStr(info.get(IFLA_INFO.KIND)!), 'veth');
  const peer = attrMap(info.get(IFLA_INFO.DATA)!).get(VETH_INFO_PEER)!;
  const peerAttrs = attrMap(peer, 16);
  t.is(readStr(peerAttrs.get(IFLA.IFNAME)!), 'eth0');
  t.is(readU32(peerAttrs.get(IFLA.NET_NS_FD)!), 9);
  // every length is padded to 4
  t.is(body.length % 4, 0);
  t.true(parseAttrs(body, 16).every((x) => x.data.length > 0));
});

test('a link dump message decodes: name, kind, mtu, mac, master, up', (t) => {
  const w = new NlWriter();
  w.u8(0).u8(0).u16(1).i32(12).u32(0x1003).u32(0);
  w.attrStr(IFLA.IFNAME, 'nsk0').attrU32(IFLA.MTU, 1400).attr(IFLA.ADDRESS, Uint8Array.of(2, 0x42, 0xac, 0x11, 0, 2)).attrU32(IFLA.MASTER, 3);
  w.attrU8(16, 6);
  w.nest(IFLA.LINKINFO, () => w.attrStr(IFLA_INFO.KIND, 'bridge'));
  t.like(decodeLink(w.finish()), { index: 12, name: 'nsk0', kind: 'bridge', linkType: 'ether', mtu: 1400, hardwareAddr: '02:42:ac:11:00:02', masterIndex: 3, up: true, operState: 'up' });
});

test('a route round-trips through encode and decode, IPv6 included', (t) => {
  const w = new NlWriter();
  writeRoute(w, { family: 10, dst: 'fd00:88::', dstPrefix: 64, linkIndex: 7, priority: 100 });
  t.like(decodeRoute(w.finish()), { family: 10, dst: 'fd00:88::', dstPrefix: 64, gateway: null, linkIndex: 7, priority: 100, table: 254, scope: 253, type: 1 });
});

test('NLMSG_ERROR decodes to a positive errno and the kernel’s extended-ack text', (t) => {
  const w = new NlWriter();
  w.u32(0).u16(NLMSG.ERROR).u16(NLM_F.CAPPED | NLM_F.ACK_TLVS).u32(9).u32(0);
  w.i32(-17);
  w.u32(40).u16(RTM.NEWLINK).u16(5).u32(9).u32(0); // the echoed header
  w.attrStr(1, 'Link already exists');
  const bytes = w.finish();
  new DataView(bytes.buffer).setUint32(0, bytes.length, true);
  const [m] = decodeMessages(bytes);
  t.is(m!.type, NLMSG.ERROR);
  t.is(m!.seq, 9);
  t.deepEqual(decodeError(m!), { errno: 17, text: 'Link already exists' });
});

test('several messages in one datagram split at their aligned lengths', (t) => {
  const a = encodeMessage(RTM.NEWLINK, 2, 1, (w) => w.u8(1));
  const b = encodeMessage(NLMSG.DONE, 2, 1, (w) => w.i32(0));
  const ms = decodeMessages(Uint8Array.from([...a, ...b]));
  t.deepEqual(ms.map((m) => m.type), [RTM.NEWLINK, NLMSG.DONE]);
  t.is(a.length, 20);
});

test('addresses parse and print in both families (RFC 5952 zero runs)', (t) => {
  t.is(hex(ipBytes('10.88.0.1')), '0a580001');
  t.is(ipString(ipBytes('fd00:0:0:0:0:0:0:1')), 'fd00::1');
  t.is(ipString(ipBytes('::')), '::');
  t.is(ipString(ipBytes('2001:db8:0:1:0:0:0:1')), '2001:db8:0:1::1');
  t.is(ipString(ipBytes('::ffff:10.0.0.1')), '::ffff:a00:1');
  t.true(cidrContains(parseCidr('10.88.0.0/16'), '10.88.255.254'));
  t.false(cidrContains(parseCidr('10.88.0.0/16'), '10.89.0.1'));
  t.false(cidrContains(parseCidr('10.88.0.0/16'), 'fd00::1'));
  t.is(nthAddress(parseCidr('10.88.0.0/16'), 257n), '10.88.1.1');
  t.throws(() => parseCidr('10.0.0.1/33'), { code: 'ERR_NSK_INVALID' });
  t.throws(() => ipBytes('10.0.0.256'), { code: 'ERR_NSK_INVALID' });
});
