// How fast a container's network is wired, against iproute2 doing the same.
//
// One round = create a veth pair whose peer is born in a fresh network
// namespace, address both ends, bring them up, add a default route inside:
//   ours: netnsNew() + 6 rtnetlink requests from this live Node process
//         (linkAdd with the peer in the namespace, addrAdd, linkSetUp, and
//         inside: addrAdd, linkSetUp, routeAdd).
//   ip:   the same steps with iproute2 in its fastest form, two `ip -batch`
//         processes (one in the host namespace, one in the new one):
//           ip -batch -        netns add N; link add A type veth peer name B netns N;
//                              addr add …/24 dev A; link set A up
//           ip -n N -batch -   addr add …/24 dev B; link set B up; route add default via …
// Everything happens inside a throwaway namespace that plays the host, so
// the machine's own interfaces are never touched. Teardown is not timed.
// Each figure is the best of 5 interleaved rounds of N setups, in ms per setup.
// Prints exactly one line:
//   BENCH net-setup ours=<ms> ip=<ms> ratio=<ours/ip>
import { spawnSync } from 'node:child_process';
import { Handle, inNetns, netnsNew, type Netns } from '../src/index.ts';

const N = 40;
const ROUNDS = 5;
const tag = `nskb${process.pid % 100000}`;
// Every link and namespace gets a fresh name: a deleted namespace's veth
// goes away asynchronously (network_namespaces(7): cleanup runs later).
let serial = 0;

const hostNs = netnsNew();
const host = Handle.open({ netns: hostNs.fd });
host.linkSetUp('lo');

function ours(i: number): { ns: Netns; veth: string } {
  const ns = netnsNew();
  const a = `${tag}a${serial++}`;
  host.linkAdd({ kind: 'veth', name: a, peer: { name: 'eth0', netns: { fd: ns.fd } } });
  host.addrAdd(a, `10.${i % 250}.0.1/24`);
  host.linkSetUp(a);
  const inside = Handle.open({ netns: ns.fd });
  inside.addrAdd('eth0', `10.${i % 250}.0.2/24`);
  inside.linkSetUp('eth0');
  inside.routeAdd({ gateway: `10.${i % 250}.0.1` });
  inside.close();
  return { ns, veth: a };
}

function ip(args: string[], input: string): void {
  const r = inNetns(hostNs.fd, () => spawnSync('ip', args, { input, encoding: 'utf8' }));
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}`);
}

function iproute2(i: number): string {
  const n = `${tag}n${serial}`;
  const a = `${tag}a${serial++}`;
  ip(['-batch', '-'], `netns add ${n}\nlink add ${a} type veth peer name eth0 netns ${n}\naddr add 10.${i % 250}.0.1/24 dev ${a}\nlink set ${a} up\n`);
  ip(['-n', n, '-batch', '-'], `addr add 10.${i % 250}.0.2/24 dev eth0\nlink set eth0 up\nroute add default via 10.${i % 250}.0.1\n`);
  return n;
}

function roundOurs(): number {
  const made: Array<{ ns: Netns; veth: string }> = [];
  const t = performance.now();
  for (let i = 0; i < N; i++) made.push(ours(i));
  const ms = (performance.now() - t) / N;
  for (const m of made) { host.linkDel(m.veth); m.ns.close(); }
  return ms;
}

function roundIp(): number {
  const made: string[] = [];
  const t = performance.now();
  for (let i = 0; i < N; i++) made.push(iproute2(i));
  const ms = (performance.now() - t) / N;
  ip(['-batch', '-'], made.map((n) => `netns del ${n}\n`).join(''));
  return ms;
}

try {
  roundOurs();
  roundIp();
  const o: number[] = [];
  const p: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    o.push(roundOurs());
    p.push(roundIp());
  }
  const [best, peer] = [Math.min(...o), Math.min(...p)];
  console.log(`BENCH net-setup ours=${best.toFixed(3)} ip=${peer.toFixed(3)} ratio=${(best / peer).toFixed(2)}`);
} finally {
  host.close();
  hostNs.close();
}
