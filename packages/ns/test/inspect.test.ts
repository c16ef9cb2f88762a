import test from 'ava';
import { statSync } from 'node:fs';
import { SyscallError } from '@nsk/syscall';
import { hostState, nsInode } from '@nsk/testkit';
import { compare, inspect, inspectFile, parseNsfsMounts, sameNamespace } from '../src/index.ts';
import { box, stop, NS_FILES, leftovers } from './helpers.ts';

const before = hostState();
test.after.always('nothing is left behind: no mounts, children or fds', (t) => {
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

const FILE_OF: Record<string, string> = { mount: 'mnt' };

test('inspect() gives each namespace’s inode as readlink shows it and its nsfs device as stat does', (t) => {
  const me = inspect();
  t.deepEqual(Object.keys(me.namespaces).map((k) => FILE_OF[k] ?? k).sort(), [...NS_FILES].sort());
  for (const [type, id] of Object.entries(me.namespaces)) {
    const file = FILE_OF[type] ?? type;
    t.is(id.inode, nsInode('self', file), type);
    t.is(id.device, statSync(`/proc/self/ns/${file}`).dev, type);
    t.is(id.type as string, type);
  }
  // Nothing unshared: the next children are born where we are.
  t.true(sameNamespace(me.forChildren.pid, me.namespaces.pid));
  t.true(sameNamespace(me.forChildren.time, me.namespaces.time));
});

test('compare() tells which namespaces a container shares with us', async (t) => {
  const c = await box({ namespaces: ['uts', 'net', 'pid'] });
  try {
    const r = compare('self', c.pid);
    t.deepEqual(r.different.sort(), ['net', 'pid', 'uts']);
    t.deepEqual(r.same.sort(), ['cgroup', 'ipc', 'mount', 'time', 'user']);
    const theirs = inspect(c.pid);
    t.is(theirs.namespaces.net!.inode, nsInode(c.pid, 'net'));
    t.not(theirs.namespaces.net!.inode, nsInode('self', 'net'));
    t.deepEqual(inspectFile(`/proc/${c.pid}/ns/uts`), theirs.namespaces.uts);
  } finally {
    await stop(c);
  }
});

test('errors name the process and the file', (t) => {
  const gone = t.throws(() => inspect(0x3ffffff), { instanceOf: SyscallError });
  t.is(gone.errno, 'ENOENT');
  t.regex(gone.message, /inspect the namespaces of process 67108863.*there is no process/);
  const notNs = t.throws(() => inspectFile('/proc/self/status'), { instanceOf: SyscallError });
  t.is(notNs.errno, 'ENOTTY');
  t.regex(notNs.message, /not a namespace file/);
});

test('nsfs mounts are read from mountinfo, escapes and all', (t) => {
  const text = [
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
    '43 42 0:4 net:[4026532177] /run/netns/a\\040b rw shared:2 - nsfs nsfs rw',
    '65 42 0:4 mnt:[4026532245] /tmp/x/m rw - nsfs nsfs rw',
  ].join('\n');
  t.deepEqual(parseNsfsMounts(text), [
    { type: 'net', inode: 4026532177, mountPoint: '/run/netns/a b' },
    { type: 'mount', inode: 4026532245, mountPoint: '/tmp/x/m' },
  ]);
});
