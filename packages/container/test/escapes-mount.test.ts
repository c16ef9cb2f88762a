// (a) mount(2) and umount(2) from inside: a new filesystem, /sys or
// /proc/sys made writable again, a masked path unmasked. Docker's defence,
// and nsk's: no CAP_SYS_ADMIN, and the seccomp profile refuses mount(2)
// and umount2(2) without it. The control gives root's powers back
// (every capability the host has added, seccomp unconfined): then every one
// of them works.
import test, { type ExecutionContext } from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { asNobody, makeLab } from './hardening-lab.ts';
import { mountsIn, SCENARIOS, type Seen } from './hardening-scenarios.ts';

const before = hostState();
const lab = makeLab();
const ATTEMPTS = ['tmpfs', 'proc', 'sys_rw', 'sys_bind_rw', 'proc_sys_bind_rw', 'umount_proc_sys', 'umount_mask'];

test.after.always('nothing is left behind: no mount, no process', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});

interface R { nsk: Seen; control: Seen }

function check(t: ExecutionContext, r: R, rootless: boolean) {
  t.is(r.nsk.status, 0, r.nsk.stderr);
  for (const a of ATTEMPTS) t.is(r.nsk.probe[a], 'EPERM', `${a} under nsk's defaults`);
  const m = mountsIn(r.nsk.lines);
  t.true(m['/sys']?.options.includes('ro'), '/sys is still read-only');
  t.true(m['/proc/sys']?.options.includes('ro'), '/proc/sys is still read-only');
  t.truthy(m['/proc/keys'], 'the mask over /proc/keys is still there');

  // The control: the same calls with root's powers back.
  t.is(r.control.status, 0, r.control.stderr);
  for (const a of ['tmpfs', 'sys_bind_rw', 'proc_sys_bind_rw', 'umount_proc_sys', 'umount_mask']) t.is(r.control.probe[a], 'OK', `${a} with CAP_SYS_ADMIN and no seccomp`);
  if (!rootless) for (const a of ['proc', 'sys_rw']) t.is(r.control.probe[a], 'OK', `${a} with CAP_SYS_ADMIN and no seccomp`);
  const c = mountsIn(r.control.lines);
  t.true(c['/sys']?.options.includes('rw'), '/sys became writable in the control');
  t.falsy(c['/proc/keys'], 'the mask is gone in the control');
}

test('rootful: mount, remount /sys and /proc/sys rw, unmount a mask: all EPERM; all work with root’s powers back', async (t) => {
  check(t, (await SCENARIOS.mounts!(lab, false, {})) as R, false);
});

test('rootless: the same attacks fail in a rootless container; they work with its (namespaced) powers back', async (t) => {
  check(t, await asNobody<R>(lab, 'mounts'), true);
});
