import test from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { observe } from './index.ts';

const before = hostState();
const OFFSET = 10 * 24 * 3600;

test.serial('uptime inside differs by the offset and the host’s is unchanged', async (t) => {
  const o = await observe(OFFSET);
  t.true(Math.abs(o.container - o.hostBefore - OFFSET) < 2, `${o.container} vs ${o.hostBefore} + ${OFFSET}`);
  t.true(o.hostAfter - o.hostBefore < 2, 'the host did not jump');
  t.regex(o.offsets, new RegExp(`monotonic\\s+${OFFSET}\\s+0`));
  t.regex(o.offsets, new RegExp(`boottime\\s+${OFFSET}\\s+0`));
  t.not(o.containerNs, o.hostNs);
});

test.serial('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before).children, []);
});
