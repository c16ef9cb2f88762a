// (d) Capabilities and no_new_privs. The container's root holds Docker's 14
// capabilities and no others — none of CAP_SYS_ADMIN (mounts, namespaces,
// most escapes), CAP_SYS_MODULE (kernel modules), CAP_SYS_PTRACE (other
// processes' memory), CAP_SYS_RAWIO (I/O ports, /dev/mem) — in every set,
// the bounding set included, so no later execve can bring one back.
// no_new_privs is set: a setuid-root program run by a non-root user inside
// does not become root (prctl(2) PR_SET_NO_NEW_PRIVS). The controls:
// adding every capability the host has (capAdd) shows the sets do move; the same setuid program run by uid
// 1000 without no_new_privs does become root.
import test, { type ExecutionContext } from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { DEFAULT_CAPABILITIES } from '../src/index.ts';
import { asNobody, capMask, hasCap, makeLab } from './hardening-lab.ts';
import { SCENARIOS, statusOf, type Seen } from './hardening-scenarios.ts';

const before = hostState();
const lab = makeLab();
const DOCKER = capMask(DEFAULT_CAPABILITIES);
const NONE = '0000000000000000';
const DANGEROUS = { CAP_SYS_ADMIN: 21, CAP_SYS_MODULE: 16, CAP_SYS_PTRACE: 19, CAP_SYS_RAWIO: 17, CAP_DAC_READ_SEARCH: 2, CAP_NET_ADMIN: 12, CAP_SYS_BOOT: 22 };

let rootful: Promise<R> | undefined;
const runRootful = () => (rootful ??= SCENARIOS.capabilities!(lab, false, {}) as Promise<R>);

test.after.always('nothing is left behind: no mount, no process', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});

test('DEFAULT_CAPABILITIES is Docker’s list of 14', (t) => {
  t.is(DEFAULT_CAPABILITIES.length, 14);
  t.is(DOCKER, '00000000a80425fb');
});

interface R { nsk: Seen; control: Seen; user?: Seen; userControl?: Seen }

function check(t: ExecutionContext, r: R) {
  t.is(r.nsk.status, 0, r.nsk.stderr);
  const s = statusOf(r.nsk);
  t.like(s, { CapBnd: DOCKER, CapPrm: DOCKER, CapEff: DOCKER, CapInh: NONE, CapAmb: NONE, NoNewPrivs: '1' });
  for (const [name, bit] of Object.entries(DANGEROUS)) t.false(hasCap(s.CapBnd!, bit), `${name} is not in the bounding set`);

  t.is(r.control.status, 0, r.control.stderr);
  const c = statusOf(r.control);
  for (const [name, bit] of Object.entries(DANGEROUS)) t.true(hasCap(c.CapEff!, bit), `control (every capability added): ${name} is there`);
}

test('rootful: root inside holds exactly Docker’s 14 capabilities in every set, no_new_privs is set; adding every capability the host has brings the rest', async (t) => {
  check(t, await runRootful());
});

test('rootful: uid 1000 has no capabilities and a setuid-root program does not make it root; without no_new_privs it does', async (t) => {
  const r = (await runRootful()) as Required<R>;
  t.is(r.user.status, 0, r.user.stderr);
  t.like(statusOf(r.user), { CapEff: NONE, CapPrm: NONE, CapBnd: DOCKER, NoNewPrivs: '1' });
  t.true(r.user.lines.includes('uid=1000 euid=1000'), r.user.lines.join('\n'));
  t.is(r.userControl.status, 0, r.userControl.stderr);
  t.is(statusOf(r.userControl).NoNewPrivs, '0');
  t.true(r.userControl.lines.includes('uid=1000 euid=0'), `control: the setuid bit works: ${r.userControl.lines.join('\n')}`);
});

test('rootless: the same 14 capabilities (in the container’s user namespace) and no_new_privs; adding every capability the host has brings the rest', async (t) => {
  check(t, await asNobody<R>(lab, 'capabilities'));
});
