// Who writes which map, decided before clone from a Caller given as data.
import test from 'ava';
import { CLONE, ValidationError } from '@nsk/syscall';
import { Plan, explainSpawn } from '@nsk/clone';
import { hostState, leftSince } from '@nsk/testkit';
import { planIds, resolveMapping, subordinateMap, user, type Caller } from '../src/index.ts';

const before = hostState();
test.after.always('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

const ALL = [{ inside: 0, outside: 0, count: 4294967295 }];
const alice: Caller = {
  uid: 1000, gid: 1000, canSetUid: false, canSetGid: false, ownUidMap: ALL, ownGidMap: ALL,
  subordinate: { name: 'alice', uid: 1000, uids: [{ start: 100000, count: 65536 }], gids: [{ start: 100000, count: 65536 }] },
};
const root: Caller = { ...alice, uid: 0, gid: 0, canSetUid: true, canSetGid: true, subordinate: { name: 'root', uid: 0, uids: [], gids: [] } };

test('unprivileged, the default is its own id as root inside, written directly, with setgroups denied', (t) => {
  const m = resolveMapping({}, alice);
  t.deepEqual(m.uidMap, [{ inside: 0, outside: 1000, count: 1 }]);
  t.deepEqual(m.gidMap, [{ inside: 0, outside: 1000, count: 1 }]);
  t.like(m, { uidWriter: 'direct', gidWriter: 'direct', setgroups: 'deny', uid: 0, gid: 0, groups: null });
});

test('unprivileged, subordinate ranges go through newuidmap/newgidmap and keep setgroups allowed', (t) => {
  const m = resolveMapping({ uidMap: 'subordinate', gidMap: 'subordinate', uid: 1000, groups: [5] }, alice);
  t.deepEqual(m.uidMap, [{ inside: 0, outside: 1000, count: 1 }, { inside: 1, outside: 100000, count: 65536 }]);
  t.like(m, { uidWriter: 'newuidmap', gidWriter: 'newgidmap', setgroups: 'allow', uid: 1000, groups: [5] });
  // Only part of a range, and the own id with another inside number, are fine too.
  const part = resolveMapping({ uidMap: [{ inside: 0, outside: 100500, count: 10 }, { inside: 10, outside: 1000, count: 1 }] }, alice);
  t.is(part.uidWriter, 'newuidmap');
  t.is(part.gidWriter, 'direct');
  t.is(part.setgroups, 'deny');
});

test('unprivileged, ids outside its own and its subordinate ranges are refused', (t) => {
  const e = t.throws(() => resolveMapping({ uidMap: [{ inside: 0, outside: 165000, count: 1000 }] }, alice), { instanceOf: ValidationError });
  t.is(e?.field, 'uidMap');
  t.regex(e!.message, /165000–165999 are not alice's own uid \(1000\) nor among its subordinate uids in \/etc\/subuid \(100000–165535\)/);
  t.throws(() => resolveMapping({ gidMap: [{ inside: 0, outside: 0, count: 1 }] }, alice), { instanceOf: ValidationError, message: /gidMap: .* not alice's own gid/ });
  t.throws(() => resolveMapping({ uidMap: [{ inside: 0, outside: 1000, count: 2 }] }, alice), { instanceOf: ValidationError, message: /1000–1001/ });
  const none = { ...alice, subordinate: { ...alice.subordinate, uids: [] } };
  t.throws(() => resolveMapping({ uidMap: 'subordinate' }, none), { instanceOf: ValidationError, message: /alice has no subordinate uids in \/etc\/subuid/ });
});

test('adjacent subordinate ranges may be mapped as one; the own id inside a subordinate range is not mapped twice', (t) => {
  const split = { ...alice, subordinate: { ...alice.subordinate, uids: [{ start: 200000, count: 10 }, { start: 100000, count: 100000 }] } };
  t.is(resolveMapping({ uidMap: [{ inside: 0, outside: 150000, count: 50010 }] }, split).uidWriter, 'newuidmap');
  const around = { ...alice, subordinate: { ...alice.subordinate, uids: [{ start: 0, count: 2000 }, { start: 5000, count: 10 }] } };
  t.deepEqual(subordinateMap(around, 'uid'), [{ inside: 0, outside: 1000, count: 1 }, { inside: 1, outside: 5000, count: 10 }]);
});

test('privileged, any map is written directly and setgroups stays allowed, with no groups by default', (t) => {
  const m = resolveMapping({ uidMap: [{ inside: 0, outside: 100000, count: 65536 }], gidMap: [{ inside: 0, outside: 100000, count: 65536 }] }, root);
  t.like(m, { uidWriter: 'direct', gidWriter: 'direct', setgroups: 'allow', groups: [] });
  t.deepEqual(resolveMapping({}, root).uidMap, [{ inside: 0, outside: 0, count: 1 }]);
});

test('privileged in a nested namespace, outside ids must exist in its own namespace', (t) => {
  const nested = { ...root, ownUidMap: [{ inside: 0, outside: 100000, count: 65536 }] };
  t.notThrows(() => resolveMapping({ uidMap: [{ inside: 0, outside: 1, count: 65535 }] }, nested));
  t.throws(() => resolveMapping({ uidMap: [{ inside: 0, outside: 65000, count: 1000 }] }, nested), { instanceOf: ValidationError, message: /65000–65999 are not mapped in this process's user namespace/ });
});

test('the ids asked for must be mapped, and groups need setgroups allowed', (t) => {
  t.throws(() => resolveMapping({ uid: 1 }, alice), { instanceOf: ValidationError, message: /^uid: 1 is not mapped inside \(setresuid\(2\)/ });
  t.throws(() => resolveMapping({ gid: -1 }, alice), { instanceOf: ValidationError, message: /^gid: not a whole number/ });
  t.throws(() => resolveMapping({ groups: [0] }, alice), { instanceOf: ValidationError, message: /^groups: setgroups\(2\) is denied/ });
  t.notThrows(() => resolveMapping({ groups: [] }, alice), 'no groups is not a request to call setgroups');
  t.throws(() => resolveMapping({ uidMap: 'subordinate', gidMap: 'subordinate', groups: [70000] }, alice), { instanceOf: ValidationError, message: /^groups\[0\]: 70000 is not mapped/ });
  t.throws(() => resolveMapping({ uidMap: 'all' as never }, alice), { instanceOf: ValidationError, message: /unknown map "all"/ });
});

test('user() refuses bad options before anything is created', (t) => {
  const children = leftSince(before).children.length;
  t.throws(() => user({ uidMap: [{ inside: 0, outside: 0, count: 0 }] }), { instanceOf: ValidationError, message: /count 0/ });
  t.throws(() => user({ uidMap: [{ inside: 0, outside: 1, count: 10 }, { inside: 5, outside: 100, count: 1 }] }), { instanceOf: ValidationError, message: /overlap inside/ });
  t.throws(() => user({ gidMap: Array.from({ length: 341 }, (_, i) => ({ inside: i, outside: i, count: 1 })) }), { instanceOf: ValidationError, message: /at most 340/ });
  t.is(leftSince(before).children.length, children);
});

test('the plan is data: groups, then gid, then uid; the parent writes the maps', (t) => {
  const m = resolveMapping({ uidMap: [{ inside: 0, outside: 100000, count: 2000 }], gidMap: [{ inside: 0, outside: 100000, count: 2000 }], uid: 1000, gid: 1000, groups: [1001] }, root);
  const plan = new Plan();
  planIds(plan, m);
  t.deepEqual(plan.steps.map((s) => s.syscall), ['setgroups', 'setresgid', 'setresuid']);
  t.deepEqual(plan.steps.map((s) => s.label), ['set supplementary groups to [1001]', 'become group 1000', 'become user 1000']);
  const denied = new Plan();
  planIds(denied, resolveMapping({}, alice));
  t.deepEqual(denied.steps.map((s) => s.syscall), ['setresgid', 'setresuid'], 'no setgroups step where setgroups is denied');

  const feature = user({ uid: 0 }, root);
  t.is(feature.cloneFlags, CLONE.NEWUSER);
  const text = explainSpawn({ argv: ['/bin/true'], features: [feature] });
  t.regex(text, /CLONE_NEWUSER/);
  t.regex(text, /parent: user/);
  t.regex(text, /setresuid/);
});
