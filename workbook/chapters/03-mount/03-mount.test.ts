import test from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { scratchDir } from '../../src/lab.ts';
import { observe } from './index.ts';

const before = hostState();
const dir = scratchDir();
test.after.always(() => dir.dispose());

test.serial('a tmpfs mounted inside is absent from the host, and a later host mount is absent inside', async (t) => {
  const o = await observe(dir.path);
  t.not(o.containerNs, o.hostNs);
  t.true(o.insideSeesOwn);
  t.false(o.hostSeesInside);
  t.true(o.hostSeesOwn);
  t.false(o.insideSeesHost);
});

test.serial('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before).mounts, []);
  t.deepEqual(leftSince(before).children, []);
});
