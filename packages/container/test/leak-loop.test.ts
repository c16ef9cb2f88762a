// 100 containers started and removed one after another, each with the
// defaults (a bridge network: veth, lease, /etc/hosts; a cgroup; every
// namespace; seccomp), leave nothing behind: no mount, cgroup, veth, lease,
// state file, fd of this process, child or zombie. The bridge's host side
// is the lab's own network namespace (networkHost), not the machine's.
import test from 'ava';
import { hostState, leftSince, openFds, childrenOfThisProcess } from '@nsk/testkit';
import { run as runContainer } from '../src/index.ts';
import { inNsk, makeLab, sh } from './hardening-lab.ts';
import { leftovers, NOTHING } from './hardening-leaks.ts';

const lab = makeLab();
const COUNT = 100;
const tag = `leak${process.pid}`;

test.serial('100 containers in a row leave no mount, cgroup, veth, lease, state file, fd, child or zombie', async (t) => {
  // One container first: whatever a first use opens for good (the libc
  // binding, a netlink socket) is not a leak of each container.
  t.is((await runContainer({ rootfs: lab.rootfs, command: ['/bin/true'], network: 'bridge', name: `${tag}-warm`, networkHost: lab.host!.networkHost })).status, 0);
  const before = hostState();
  const names: string[] = [];
  const ifindexes: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < COUNT; i++) {
    const name = `${tag}-${i}`;
    names.push(name);
    const r = await inNsk(lab, false, { name, network: 'bridge' }, sh('cat /sys/class/net/eth0/iflink'));
    t.is(r.status, 0, r.stderr);
    ifindexes.push(Number(r.stdout.trim()));
  }
  const ms = performance.now() - t0;
  t.log(`${COUNT} containers in ${ms.toFixed(0)} ms (${(ms / COUNT).toFixed(1)} ms each, bridge network, output captured)`);
  t.is(new Set(ifindexes).size, COUNT, 'each had a veth of its own');
  const left = leftSince(before);
  t.deepEqual(left.mounts, [], 'no mount');
  t.deepEqual(left.fds, [], `no fd (before ${before.fds.length}, after ${openFds().length})`);
  t.deepEqual(childrenOfThisProcess(), [], 'no child');
  t.deepEqual(leftovers([...names, `${tag}-warm`], ifindexes, lab.host), NOTHING);
  t.deepEqual(lab.host!.links(), ['lo'], 'no veth, and the bridge went with its last container');
});
