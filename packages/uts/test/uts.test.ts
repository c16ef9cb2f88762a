import test from 'ava';
import { readFileSync } from 'node:fs';
import { machine, release } from 'node:os';
import { Plan, explainSpawn } from '@nsk/clone';
import { ValidationError, gethostname } from '@nsk/syscall';
import { hostState, leftSince, nsInode, rootMap, run } from '@nsk/testkit';
import { domainname, hostname, planUts, uname, uts, HOST_NAME_MAX } from '../src/index.ts';

const before = hostState();
const host = { hostname: hostname(), domainname: domainname() };
const bb = '/bin/busybox';

test.after.always('nothing is left behind, and the host’s names are unchanged', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
  t.deepEqual(left.fds, []);
  t.deepEqual({ hostname: hostname(), domainname: domainname() }, host);
});

test('names set inside are seen inside only, in a UTS namespace of the child’s own', async (t) => {
  let inode = 0;
  const r = await run({
    argv: [bb, 'sh', '-c', `${bb} hostname; cat /proc/sys/kernel/domainname /proc/sys/kernel/hostname; sleep 0.2`],
    features: [uts({ hostname: 'nsk-uts-test', domainname: 'nsk.test' })],
  }, (child) => { inode = nsInode(child.pid, 'uts'); });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), ['nsk-uts-test', 'nsk.test', 'nsk-uts-test']);
  t.not(inode, nsInode('self', 'uts'));
  // The host, asked three ways: uname(2), gethostname(2), /proc.
  t.deepEqual({ hostname: hostname(), domainname: domainname() }, host);
  t.is(gethostname(), host.hostname);
  t.is(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), host.hostname);
});

test('without names the child starts with a copy of the host’s, and renaming itself changes nothing outside', async (t) => {
  const r = await run({ argv: [bb, 'sh', '-c', `${bb} hostname; ${bb} hostname renamed-inside && ${bb} hostname`], features: [uts()] });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), [host.hostname, 'renamed-inside']);
  t.is(hostname(), host.hostname);
});

test('a child in its own user namespace may name its UTS namespace (the user namespace owns it)', async (t) => {
  const r = await run({ argv: [bb, 'hostname'], namespaces: ['user'], features: [rootMap(), uts({ hostname: 'rootless' })] });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), 'rootless');
  t.is(hostname(), host.hostname);
});

test('the plan is CLONE_NEWUTS, then sethostname and setdomainname', (t) => {
  const plan = new Plan();
  planUts(plan, { hostname: 'a', domainname: 'b' });
  t.deepEqual(plan.steps.map((s) => s.label), ['set hostname to "a"', 'set NIS domain name to "b"']);
  t.deepEqual(plan.steps.map((s) => s.syscall), ['sethostname', 'setdomainname']);
  t.regex(explainSpawn({ argv: ['/bin/true'], features: [uts({ hostname: 'a' })] }), /clone\(CLONE_NEWUTS\|SIGCHLD\)[^]*sethostname\("a", 1\)/);
});

// uts() checks when it is called, long before spawn() clones anything.
test('bad names are refused before anything is created', (t) => {
  const longest = `${'a'.repeat(31)}.${'b'.repeat(32)}`;
  t.is(Buffer.byteLength(longest), HOST_NAME_MAX);
  t.notThrows(() => uts({ hostname: longest, domainname: '(none)' }));
  const bad: Array<[string, unknown, RegExp]> = [
    ['hostname', `${longest}c`, /65 bytes; the kernel keeps at most 64/],
    ['hostname', 'a\0b', /NUL/],
    ['hostname', '', /empty/],
    ['hostname', '-lead', /not a hostname/],
    ['hostname', 'trail-', /not a hostname/],
    ['hostname', 'two..dots', /not a hostname/],
    ['hostname', 'under_score', /not a hostname/],
    ['hostname', 'hôte', /not a hostname/],
    ['hostname', 42, /not a string/],
    ['domainname', 'with space', /printable ASCII/],
    ['domainname', 'd'.repeat(65), /at most 64/],
  ];
  for (const [field, value, message] of bad) {
    const err = t.throws(() => uts({ [field]: value }), { instanceOf: ValidationError, message });
    t.is(err?.field, field);
    t.throws(() => planUts(new Plan(), { [field]: value }), { instanceOf: ValidationError });
  }
});

test('uname() agrees with gethostname(2), /proc/sys/kernel and os', (t) => {
  const u = uname();
  t.is(u.sysname, 'Linux');
  t.is(u.nodename, gethostname());
  t.is(u.domainname, readFileSync('/proc/sys/kernel/domainname', 'utf8').trim());
  t.is(u.release, release());
  t.is(u.machine, machine());
});
