import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hostState, leftSince } from '@nsk/testkit';
import { defaultProfileExperiment, keyctlExperiment, mkdirExperiment, openLab } from './index.ts';

const before = hostState();
const lab = openLab();

test.after.always(() => lab.dispose());

test.serial('mkdir works on the host and fails with EPERM under the filter', async (t) => {
  const m = await mkdirExperiment(lab);
  t.is(m.host.status, 0);
  t.true(existsSync(join(lab.hostDir, 'made')));
  t.is(m.container.status, 1);
  t.regex(m.container.output, /can't create directory '\/tmp\/made': Operation not permitted/);
  // The filter checks the arch first, then searches the call numbers.
  t.regex(m.filter, /0000: 0x20 .* A = arch\n.*0001: 0x15 .*if \(A != ARCH_/);
});

test.serial('keyctl runs on the host; the filtered container is killed by SIGSYS at that call', async (t) => {
  const k = await keyctlExperiment(lab);
  t.is(k.host.status, 0);
  t.regex(k.host.output, /keyctl: keyring \d+/);
  t.is(k.container.signal, 'SIGSYS');
  t.is(k.container.status, 128 + 31);
  t.is(k.container.output, 'keyctl: asking for the session keyring', 'nothing after the call ran');
});

test.serial('the default profile lets a shell work and denies namespaces, hostnames, device nodes and keyrings', async (t) => {
  const d = await defaultProfileExperiment(lab);
  const w = d.without.output.split('\n');
  const u = d.under.output.split('\n');
  t.is(d.without.status, 0, d.without.output);
  t.deepEqual(w.slice(2), ['note', 'unshare: made a network namespace', 'hostname: now box', 'mknod: made a device node', 'keyctl: asking for the session keyring', w[7]!]);
  t.regex(w[7]!, /keyctl: keyring \d+/);
  t.deepEqual(u.slice(0, 3), w.slice(0, 3), 'the ordinary part runs the same');
  t.deepEqual(u.slice(3), [
    'unshare: unshare(0x40000000): Operation not permitted',
    'hostname: sethostname: Operation not permitted',
    'mknod: /tmp/null: Operation not permitted',
    'keyctl: asking for the session keyring',
    'keyctl: Operation not permitted',
  ]);
  t.true(d.length < 140);
  t.true(d.cacheable > 200);
  t.regex(d.planTail, /prctl\(PR_SET_NO_NEW_PRIVS, 1.*\n.*seccomp\(SECCOMP_SET_MODE_FILTER.*\n.*execve\("\/bin\/sh"/);
});

test.serial('nothing is left behind', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.children, []);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.fds, []);
});
