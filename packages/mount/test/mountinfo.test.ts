import test from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { parseMountInfo, readMountInfo } from '../src/index.ts';

const before = hostState();

test.after.always('reading mountinfo leaves no fd open', (t) => {
  t.deepEqual(leftSince(before).fds, []);
});

test('a mountinfo line parses into its fields, with octal escapes undone', (t) => {
  const [m] = parseMountInfo('36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue\n');
  t.deepEqual(m, {
    id: 36, parentId: 35, device: '98:0', root: '/mnt1', mountPoint: '/mnt two',
    options: ['rw', 'noatime'], optionalFields: ['master:1', 'shared:7'],
    fsType: 'ext3', source: '/dev/root', superOptions: ['rw', 'errors=continue'],
  });
});

test('this process’s mounts include / and /proc', (t) => {
  const mounts = readMountInfo();
  t.truthy(mounts.find((m) => m.mountPoint === '/'));
  t.is(mounts.find((m) => m.mountPoint === '/proc')?.fsType, 'proc');
});
