// (e) seccomp: the system calls behind known escapes and kernel attack
// surface, refused by the default profile before the kernel looks at them:
// keyrings (keyctl, add_key, request_key: not namespaced), new user
// namespaces (unshare/clone with CLONE_NEWUSER: the door to every
// namespaced capability), clone3 (its flags cannot be filtered: ENOSYS, so
// libc falls back to clone), bpf, perf_event_open, open_by_handle_at and
// name_to_handle_at ("shocker"), kexec_load, init_module/finit_module,
// iopl, swapon, userfaultfd. The probe calls each with arguments that make
// the kernel fail harmlessly (EINVAL, EFAULT, EBADF) when the call gets
// through; the control (seccomp unconfined, every capability added) shows each one
// does get through without the filter.
//
// And the "shocker" itself (Docker 0.x, 2014): with CAP_DAC_READ_SEARCH,
// open_by_handle_at(2) opens a host directory by inode through any mount
// of its filesystem (here a volume), outside every path the container sees.
import test, { type ExecutionContext } from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { asNobody, makeLab } from './hardening-lab.ts';
import { SCENARIOS, statusOf, type Seen } from './hardening-scenarios.ts';

const before = hostState();
const lab = makeLab();
const CALLS = ['keyctl', 'add_key', 'request_key', 'unshare_user', 'clone_user', 'clone3', 'bpf', 'perf_event_open', 'open_by_handle_at', 'name_to_handle_at', 'kexec_load', 'init_module', 'finit_module', 'iopl', 'swapon', 'userfaultfd'];
// Rootless, the calls whose kernel side asks for a capability of the
// host's user namespace answer EPERM with or without a filter: the control
// can only show the others getting through.
const NEEDS_HOST_CAPABILITY = ['swapon'];

test.after.always('nothing is left behind: no mount, no process', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});

interface R { nsk: Seen; unconfined: Seen; control: Seen }

function check(t: ExecutionContext, r: R, rootless: boolean) {
  t.is(r.nsk.status, 0, r.nsk.stderr);
  t.like(statusOf(r.nsk), { Seccomp: '2', NoNewPrivs: '1' });
  for (const c of CALLS) t.is(r.nsk.probe[c], c === 'clone3' ? 'ENOSYS' : 'EPERM', `${c} under the default profile`);

  t.is(r.control.status, 0, r.control.stderr);
  t.is(statusOf(r.control).Seccomp, '0');
  for (const c of CALLS) {
    if (rootless && NEEDS_HOST_CAPABILITY.includes(c)) continue;
    t.not(r.control.probe[c], r.nsk.probe[c], `control: ${c} reaches the kernel (${r.control.probe[c]})`);
  }
  t.log(`seccomp unconfined, default capabilities: ${CALLS.map((c) => `${c}=${r.unconfined.probe[c]}`).join(' ')}`);
}

test('rootful: every call of the list is refused by the filter; without it each reaches the kernel', async (t) => {
  check(t, (await SCENARIOS.seccomp!(lab, false, {})) as R, false);
});

test('rootless: the same calls are refused in a rootless container', async (t) => {
  check(t, await asNobody<R>(lab, 'seccomp'), true);
});

interface Shocker { nsk: Seen; control: Seen }

test('rootful: the shocker escape fails (EPERM); with CAP_DAC_READ_SEARCH and no filter it lists the host directory beside the volume', async (t) => {
  const r = (await SCENARIOS.shocker!(lab, false, {})) as Shocker;
  t.is(r.nsk.probe.open_by_handle_at, 'EPERM');
  t.deepEqual(r.nsk.lines.filter((l) => l.startsWith('entry ')), []);
  t.is(r.control.probe.open_by_handle_at, 'OK', r.control.stderr);
  t.true(r.control.lines.includes('entry host-secret'), 'control: a host directory outside the container, listed');
});

// open_by_handle_at(2): without CAP_DAC_READ_SEARCH in the host's user
// namespace, the kernel decodes a handle only to a file below the mount it
// was given (Linux 6.9; EPERM before): the lab directory is above the
// volume, so even the control is refused (ESTALE).
test('rootless: the shocker escape fails; the kernel refuses handles outside the mount without the host’s CAP_DAC_READ_SEARCH, so the control fails too', async (t) => {
  const r = await asNobody<Shocker>(lab, 'shocker');
  t.is(r.nsk.probe.open_by_handle_at, 'EPERM');
  t.true(['EPERM', 'ESTALE'].includes(r.control.probe.open_by_handle_at!), r.control.probe.open_by_handle_at);
  t.deepEqual([...r.nsk.lines, ...r.control.lines].filter((l) => l.startsWith('entry ')), []);
});
