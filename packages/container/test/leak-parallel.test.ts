// 20 containers at once on the bridge network: all alive together (each
// waits on a pipe this process holds until all 20 have been seen), each
// with an address of its own; when they have ended, nothing of them is
// left: no mount, cgroup, veth, lease, state file, fd, child or zombie.
// The bridge's host side is the lab's own network namespace (networkHost).
import test from 'ava';
import { close, O, pipe2 } from '@nsk/syscall';
import { capture, childrenOfThisProcess, hostState, leftSince, openFds } from '@nsk/testkit';
import { run as runContainer, start, type Container } from '../src/index.ts';
import { ENV, makeLab, sh } from './hardening-lab.ts';
import { leftovers, NOTHING } from './hardening-leaks.ts';

const lab = makeLab();
const COUNT = 20;
const tag = `par${process.pid}`;

test.serial('20 containers at once on the bridge: all alive together, distinct addresses, nothing left after', async (t) => {
  const host = lab.host!;
  t.is((await runContainer({ rootfs: lab.rootfs, command: ['/bin/true'], network: 'bridge', name: `${tag}-warm`, networkHost: host.networkHost })).status, 0);
  const before = hostState();
  const names = Array.from({ length: COUNT }, (_, i) => `${tag}-${i}`);
  const [gateR, gateW] = pipe2(O.CLOEXEC);
  const outs = names.map(() => capture());
  let started: Container[] = [];
  try {
    // Each prints its eth0's peer ifindex, then blocks reading the gate.
    const t0 = performance.now();
    started = await Promise.all(names.map((name, i) => start({
      name, rootfs: lab.rootfs, env: ENV, network: 'bridge', networkHost: host.networkHost,
      command: sh('cat /sys/class/net/eth0/iflink; read x; true'),
      stdio: [gateR, outs[i]!.fd, null],
    })));
    t.log(`20 started together in ${(performance.now() - t0).toFixed(0)} ms`);
    t.true(started.every((c) => c.kill(0)), 'all 20 alive at the same time');
    const addresses = started.map((c) => c.state().network?.address);
    t.is(new Set(addresses).size, COUNT, `distinct addresses: ${addresses.join(' ')}`);
    t.true(addresses.every((a) => a !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(a)));
    // The checks below can see what they look for: while the containers
    // live, their groups and leases are there to be found.
    const live = leftovers(names, [], host);
    t.true(live.cgroups.length >= COUNT, `a group per container while they run (${live.cgroups.length})`);
    t.is(live.leases.length, COUNT, 'a lease per container while they run');
    t.true(host.links().filter((l) => l.startsWith('vnsk')).length >= COUNT, 'a veth per container while they run');
  } catch (e) {
    close(gateW);
    await Promise.all(outs.map((o) => o.text()));
    throw e;
  } finally {
    close(gateR);
  }
  close(gateW); // every `read x` sees end of file
  const statuses = await Promise.all(started.map((c) => c.exited));
  const ifindexes = (await Promise.all(outs.map((o) => o.text()))).map((s) => Number(s.trim()));
  t.deepEqual(statuses.map((s) => s.status), names.map(() => 0));
  t.is(new Set(ifindexes).size, COUNT);
  const left = leftSince(before);
  t.deepEqual(left.mounts, [], 'no mount');
  t.deepEqual(left.fds, [], `no fd (before ${before.fds.length}, after ${openFds().length})`);
  t.deepEqual(childrenOfThisProcess(), [], 'no child');
  t.deepEqual(leftovers([...names, `${tag}-warm`], ifindexes, host), NOTHING);
  t.deepEqual(host.links(), ['lo'], 'no veth, and the bridge went with its last container');
});
