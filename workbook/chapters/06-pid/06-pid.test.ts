import test from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { scratchRootfs } from '../../src/lab.ts';
import { observe } from './index.ts';

const before = hostState();
const root = scratchRootfs();
test.after.always(() => root.dispose());

test.serial('echo $$ prints 1, ps lists only the container’s processes, the host sees another pid', async (t) => {
  const o = await observe(root.path);
  t.is(o.shellPid, 1);
  t.deepEqual(o.ps, [{ pid: 1, command: 'sh' }, { pid: o.ps[1]!.pid, command: 'ps' }]);
  t.true(o.ps[1]!.pid < 10);
  t.not(o.hostPid, 1);
  t.deepEqual(o.nsPids, [o.hostPid, 1]);
  t.not(o.containerNs, o.hostNs);
  t.true(o.hostProcessCount > o.ps.length);
});

test.serial('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before).mounts, []);
  t.deepEqual(leftSince(before).children, []);
});
