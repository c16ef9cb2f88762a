import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostState, leftSince } from '@nsk/testkit';
import { scratchDir } from '../../src/lab.ts';
import { observe } from './index.ts';

const before = hostState();
const dir = scratchDir();
test.after.always(() => dir.dispose());

test.serial('bash runs chrooted into a directory of host binaries and sees only that directory', async (t) => {
  t.true(existsSync('/etc/hostname'), 'the host has a file the chroot must not see');
  const o = await observe(dir.path);
  t.regex(o.bashVersion, /^\d+\.\d+/);
  t.deepEqual(o.inside, readdirSync(join(dir.path, 'root')).filter((e) => !e.startsWith('.')).sort());
  t.notDeepEqual(o.inside, readdirSync('/').filter((e) => !e.startsWith('.')).sort());
  t.false(o.sawHostFile);
  t.regex(o.lddBash, /libc\.so\.6 => /);
});

test.serial('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before).mounts, []);
  t.deepEqual(leftSince(before).children, []);
});
