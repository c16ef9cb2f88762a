// (g) The network namespace: the container has links of its own (lo, and
// rootful its end of a veth, eth0), none of the host's: no host link, MAC
// address or IP address is visible inside, so nothing of the host's
// network can be configured, sniffed (CAP_NET_RAW is a default capability)
// or bound. The control (network: 'host') sees them all.
import test, { type ExecutionContext } from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { asNobody, makeLab } from './hardening-lab.ts';
import { SCENARIOS, type Seen } from './hardening-scenarios.ts';

const before = hostState();
const lab = makeLab();
const ZERO_MAC = '00:00:00:00:00:00';

test.after.always('nothing is left behind: no mount, no process', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});

interface R { host: { links: { name: string; mac: string }[]; addrs: string[] }; nsk: Seen; control: Seen }

const links = (s: Seen) => s.lines.filter((l) => l.startsWith('link ')).map((l) => { const [, name, mac] = l.split(' '); return { name: name!, mac: mac! }; });
const addrs = (s: Seen) => s.lines.filter((l) => l.startsWith('addr ')).map((l) => l.split(' ')[2]!.split('/')[0]!);

function check(t: ExecutionContext, r: R, rootless: boolean) {
  t.is(r.nsk.status, 0, r.nsk.stderr);
  const inside = links(r.nsk);
  t.deepEqual(inside.map((l) => l.name).sort(), rootless ? ['lo'] : ['eth0', 'lo'], 'rootful: bridge by default; rootless: none');
  const hostMacs = new Set(r.host.links.map((l) => l.mac).filter((m) => m !== ZERO_MAC));
  t.deepEqual(inside.filter((l) => hostMacs.has(l.mac)), [], 'no host MAC address inside (eth0 is the container’s own end of a veth)');
  const hostAddrs = new Set(r.host.addrs.filter((a) => a !== '127.0.0.1' && a !== '::1'));
  t.deepEqual(addrs(r.nsk).filter((a) => hostAddrs.has(a)), [], 'no host IP address inside');

  t.is(r.control.status, 0, r.control.stderr);
  // nsk's own bridge and veths come and go with other containers.
  const stable = (names: string[]) => names.filter((n) => !/^v?nsk/.test(n)).sort();
  t.deepEqual(stable(links(r.control).map((l) => l.name)), stable(r.host.links.map((l) => l.name)), 'control (network host): the host’s links');
  t.true(addrs(r.control).some((a) => hostAddrs.has(a)), 'control: the host’s addresses');
}

test('rootful: none of the host’s links, MACs or addresses inside; network host shows them', async (t) => {
  check(t, (await SCENARIOS.network!(lab, false, {})) as R, false);
});

test('rootless: only lo inside; network host shows the host’s links', async (t) => {
  check(t, await asNobody<R>(lab, 'network'), true);
});
