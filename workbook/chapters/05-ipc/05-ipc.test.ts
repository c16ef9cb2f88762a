import test from 'ava';
import { shmList } from '@nsk/ipc';
import { hostState, leftSince } from '@nsk/testkit';
import { observe } from './index.ts';

const before = hostState();
const HOST = 0x4e534b51;
const INSIDE = 0x4e534b52;

test.serial('a segment made inside is invisible to the host, and the host’s is invisible inside', async (t) => {
  const o = await observe(HOST, INSIDE);
  t.true(o.hostKeys.includes(HOST));
  t.false(o.hostKeys.includes(INSIDE));
  t.deepEqual(o.containerKeys, [INSIDE]);
  t.not(o.containerNs, o.hostNs);
});

test.serial('nothing is left behind: no segment on the host, no process', (t) => {
  t.deepEqual(shmList().filter((s) => s.key === HOST || s.key === INSIDE), []);
  t.deepEqual(leftSince(before).children, []);
});
