// Rootless: the tests drop to nobody (65534:65534) with runAsUser and run
// test/fixtures/rootless.ts there, because what a user namespace gives an
// unprivileged user is only visible to an unprivileged user.
import test from 'ava';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { hostState, leftSince, runAsUser, runFixture } from '@nsk/testkit';
import type { Identity } from './helpers/identity.ts';
import type { IdRange, Mapping, SubordinateIds } from '../src/index.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures/rootless.ts');
const PROBE = join(import.meta.dirname, 'fixtures/probe.ts');
const SUBUID = 'nobody:100000:65536\n'; // the name form
const SUBGID = '# test-made\n65534:100000:65536\n'; // the numeric form
const NOBODY = [65534, 65534, 65534, 65534];
const UNPRIVILEGED = '0000000000000000';

const before = hostState();
const hostSubuid = existsSync('/etc/subuid') ? { text: readFileSync('/etc/subuid', 'utf8'), mtime: statSync('/etc/subuid').mtimeMs } : null;
const host = hostname();
const dirs: string[] = [];

interface Err { name: string; message: string; code?: string; errno?: string; syscall?: string; field?: string; stderr?: string }
interface InUserNs {
  mapping: Mapping;
  code: number;
  inside: string[];
  stderr: string;
  host: { status: Identity; uidMap: IdRange[]; gidMap: IdRange[]; setgroups: string; userNs: number; ownUserNs: number };
}
interface Report<T> { me: Identity; out: T; children: number[] }

async function fixture<T>(scenario: string, files?: Record<string, string>): Promise<Report<T>> {
  const r = await runAsUser({ script: FIXTURE, args: [scenario], ...(files ? { files } : {}) });
  dirs.push(r.dir);
  if (r.status !== 0) throw new Error(`fixture ${scenario} ${r.timedOut ? 'timed out' : `exited ${r.status}`}\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Report<T>;
}

test.after.always('nothing is left behind: no mount, no process, no directory, the host’s /etc/subuid and hostname untouched', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
  t.true(dirs.length >= 4);
  t.deepEqual(dirs.filter((d) => existsSync(d)), []);
  t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes('nsk-as-user'));
  t.deepEqual(existsSync('/etc/subuid') ? { text: readFileSync('/etc/subuid', 'utf8'), mtime: statSync('/etc/subuid').mtimeMs } : null, hostSubuid);
  t.false(existsSync('/etc/nsk-user-test-missing'));
  t.is(hostname(), host);
});

test('the harness runs node as nobody with no capabilities, and shows test-made files only in its own mount namespace', async (t) => {
  const r = await runAsUser({ script: PROBE, args: ['/etc/subuid', '/etc/nsk-user-test-missing'], files: { '/etc/subuid': SUBUID, '/etc/nsk-user-test-missing': 'added\n' } });
  dirs.push(r.dir);
  t.is(r.status, 0, r.stderr);
  const seen = JSON.parse(r.stdout) as { me: Identity; cwd: string; files: Record<string, string | null> };
  t.deepEqual(seen.me.uid, NOBODY);
  t.deepEqual(seen.me.gid, NOBODY);
  t.deepEqual(seen.me.groups, []);
  t.is(seen.me.capEff, UNPRIVILEGED);
  t.is(seen.me.capPrm, UNPRIVILEGED);
  t.is(seen.me.noNewPrivs, 0, 'setuid programs (newuidmap) still work');
  t.true(seen.cwd.startsWith(`${r.dir}/repo/`));
  // A bind over an existing file, an overlay for a missing one.
  t.deepEqual(seen.files, { '/etc/subuid': SUBUID, '/etc/nsk-user-test-missing': 'added\n' });
});

test('nobody cannot make a UTS namespace alone (EPERM); inside its own user namespace it is root, may, and the host still sees uid 65534', async (t) => {
  const { me, out, children } = await fixture<{ utsAlone: Err; inside: InUserNs; groups: Err }>('self');
  t.deepEqual(me.uid, NOBODY);
  t.is(me.capEff, UNPRIVILEGED);
  t.is(out.utsAlone.name, 'SyscallError');
  t.is(out.utsAlone.syscall, 'clone');
  t.is(out.utsAlone.errno, 'EPERM');

  const s = out.inside;
  t.is(s.code, 0, s.stderr);
  const [uid, gid, name, setgroups] = s.inside;
  t.is(uid, '0', 'id -u inside');
  t.is(gid, '0', 'id -g inside');
  t.is(name, 'rootless', 'sethostname worked in the new UTS namespace');
  t.is(setgroups, 'deny');
  t.deepEqual(s.host.status.uid, NOBODY, 'the host sees the process as 65534');
  t.deepEqual(s.host.status.gid, NOBODY);
  t.not(s.host.status.capEff, UNPRIVILEGED, 'full capabilities — in its own namespace only');
  t.not(s.host.userNs, s.host.ownUserNs);
  t.deepEqual(s.host.uidMap, [{ inside: 0, outside: 65534, count: 1 }]);
  t.deepEqual(s.host.gidMap, [{ inside: 0, outside: 65534, count: 1 }]);
  t.is(s.host.setgroups, 'deny', 'the single rootless gid map needs setgroups denied');
  t.like(s.mapping, { uidWriter: 'direct', gidWriter: 'direct', setgroups: 'deny', groups: null });
  t.is(out.groups.name, 'ValidationError');
  t.is(out.groups.field, 'groups');
  t.deepEqual(children, []);
});

test('with subordinate ids (newuidmap/newgidmap), uid 1000 inside is subuid base + 999 outside, and setgroups stays allowed', async (t) => {
  const { me, out, children } = await fixture<{ ranges: SubordinateIds; direct: Err; probeCode: number; helper: string; refused: Err; inside: InUserNs }>('subordinate', { '/etc/subuid': SUBUID, '/etc/subgid': SUBGID });
  t.is(me.capEff, UNPRIVILEGED);
  // Both forms of owner were read: the name in subuid, the uid in subgid.
  t.deepEqual(out.ranges.uids, [{ start: 100000, count: 65536 }]);
  t.deepEqual(out.ranges.gids, [{ start: 100000, count: 65536 }]);
  // Truthfulness: nobody writing this map itself is refused by the kernel …
  t.is(out.direct.errno, 'EPERM');
  t.is(out.direct.syscall, 'write');
  // … and the setuid helper checks /etc/subuid itself.
  t.is(out.helper, '/usr/bin/newuidmap');
  t.is(out.refused.name, 'IdMapperError');
  t.regex(out.refused.stderr!, /^newuidmap: uid range \[0-10\) -> \[300000-300010\) not allowed/);

  const s = out.inside;
  t.is(s.code, 0, s.stderr);
  t.like(s.mapping, { uidWriter: 'newuidmap', gidWriter: 'newgidmap', setgroups: 'allow' });
  const map = [{ inside: 0, outside: 65534, count: 1 }, { inside: 1, outside: 100000, count: 65536 }];
  t.deepEqual(s.host.uidMap, map, 'the 65536-id map is in the kernel: only newuidmap could have written it');
  t.deepEqual(s.host.gidMap, map);
  t.deepEqual(s.inside, ['1000', '1000', '1000 2000', 'allow']);
  t.deepEqual(s.host.status.uid, [100999, 100999, 100999, 100999]);
  t.deepEqual(s.host.status.gid, [100999, 100999, 100999, 100999]);
  t.deepEqual(s.host.status.groups, [100999, 101999]);
  t.is(s.host.status.capEff, UNPRIVILEGED, 'uid 1000 inside has no capabilities');
  t.is(s.host.setgroups, 'allow');
  t.deepEqual(children, []);
});

test('nobody without subordinate ids: asking for them, or for others’ ids, fails before clone; a helper refusal fails spawn cleanly', async (t) => {
  // Empty files of its own, whatever the host's say.
  const { me, out, children } = await fixture<{ ranges: SubordinateIds; subordinate: Err; others: Err; groups: Err; helperRefuses: Err }>('invalid', { '/etc/subuid': '', '/etc/subgid': '' });
  t.is(me.capEff, UNPRIVILEGED);
  t.deepEqual(out.ranges, { name: 'nobody', uid: 65534, uids: [], gids: [] });
  t.like(out.subordinate, { name: 'ValidationError', field: 'uidMap' });
  t.regex(out.subordinate.message, /no subordinate uids/);
  t.like(out.others, { name: 'ValidationError', field: 'uidMap' });
  t.regex(out.others.message, /100000–165535 are not nobody's own uid/);
  t.like(out.groups, { name: 'ValidationError', field: 'groups' });
  t.like(out.helperRefuses, { name: 'IdMapperError', code: 'ERR_NSK_ID_MAPPER' });
  t.regex(out.helperRefuses.message, /^\/usr\/bin\/newuidmap \d+ 0 200000 65536: exited 1/);
  t.deepEqual(children, [], 'the child whose map was refused was killed and reaped');
});

test('runFixture returns the fixture’s JSON; a fixture that hangs is killed at its timeout and its directory removed', async (t) => {
  const seen = await runFixture<{ me: Identity }>({ script: PROBE });
  t.deepEqual(seen.me.uid, NOBODY);
  const r = await runAsUser({ script: PROBE, args: ['--hang'], timeout: 1500 });
  dirs.push(r.dir);
  t.true(r.timedOut);
  t.is(r.signal, 'SIGKILL');
  t.false(existsSync(r.dir));
});
