import test from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { observe } from './index.ts';

const before = hostState();

test.serial('as an unprivileged user: EPERM without a user namespace; root inside one, its own uid outside', async (t) => {
  const o = await observe();
  t.is(o.self, 65534);
  t.is(o.withoutUser, 'clone: EPERM');
  t.is(o.code, 0);
  t.is(o.idInside, 0);
  t.is(o.hostname, 'rootless');
  t.is(o.uidMap, '0 65534 1');
  t.is(o.hostUid, 65534);
});

test.serial('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before).mounts, []);
  t.deepEqual(leftSince(before).children, []);
});
