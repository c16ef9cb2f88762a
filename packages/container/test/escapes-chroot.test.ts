// (h) The chroot escape (chroot(2) NOTES: chroot does not change the
// working directory, and ".." stops only at the process's root): keep a
// descriptor of /, chroot into a subdirectory, fchdir back out, climb, and
// chroot to where the climb ends. CAP_SYS_CHROOT is one of Docker's default
// capabilities, so the container may try. nsk's root is a pivot_root(2) in
// a mount namespace with the host's tree detached: the climb ends at the
// container's own /. The control switches root with chroot(2) instead,
// leaving the host's tree in the namespace: the climb reaches it.
import test, { type ExecutionContext } from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { asNobody, makeLab } from './hardening-lab.ts';
import { SCENARIOS, type Seen } from './hardening-scenarios.ts';

const before = hostState();
const lab = makeLab();

test.after.always('nothing is left behind: no mount, no process', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});

interface R { nsk: Seen; control: Seen }

function check(t: ExecutionContext, r: R) {
  t.is(r.nsk.status, 0, r.nsk.stderr);
  t.like(r.nsk.probe, { chroot: 'OK', fchdir: 'OK', chroot_dot: 'OK' }, 'the escape was really attempted');
  t.is(r.nsk.probe.marker, 'ENOENT', `the host's ${lab.secret} is out of reach`);
  t.is(r.control.status, 0, r.control.stderr);
  t.like(r.control.probe, { chroot: 'OK', chroot_dot: 'OK', marker: 'FOUND' }, 'control (chroot instead of pivot_root): escaped');
}

test('rootful: chroot + fchdir + climb ends at the container’s own root; under a plain chroot it reaches the host', async (t) => {
  check(t, (await SCENARIOS.chroot!(lab, false, {})) as R);
});

test('rootless: the same escape fails in a rootless container; under a plain chroot it reaches the host', async (t) => {
  check(t, await asNobody<R>(lab, 'chroot'));
});
