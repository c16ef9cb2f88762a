import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { hostState, leftSince } from '@nsk/testkit';
import { scratchRootfs } from '../../src/lab.ts';
import { escapeFromChroot, escapeFromPivotRoot } from './index.ts';

const before = hostState();
const root = scratchRootfs();
test.after.always(() => root.dispose());
test.after.always('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before).mounts, []);
  t.deepEqual(leftSince(before).children, []);
});

test.serial('the escape succeeds under chroot: it reaches the host’s root', async (t) => {
  const r = await escapeFromChroot(root.path);
  t.true(r.sawHostPath);
  t.deepEqual(r.root, readdirSync('/').filter((e) => !e.startsWith('.')).sort());
});

test.serial('the same escape after pivot_root, with the old root detached, stays in the container', async (t) => {
  const r = await escapeFromPivotRoot(root.path);
  t.false(r.sawHostPath);
  t.deepEqual(r.root, readdirSync(root.path).filter((e) => !e.startsWith('.')).sort());
  t.true(existsSync(`${root.path}/.out`)); // the mkdir happened, inside the container's root
});
