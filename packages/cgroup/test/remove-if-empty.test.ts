// removeIfEmpty(): the fast removal a container's end takes. rmdir(2)
// refuses a group that holds a process or a child group (cgroups(7)), so
// its success alone proves the group was empty; a refusal leaves kill() and
// delete() able to finish. Read back from every hierarchy on this host
// (hybrid: each v1 hierarchy and the cgroup2 mount).
import test from 'ava';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostState, leftSince } from '@nsk/testkit';
import { Cgroup, detectLayout } from '../src/index.ts';
import { alive, exists, leftoverGroups, spawnIn } from './helpers.ts';

const layout = detectLayout();
const before = hostState();

test.after.always('no cgroup, process, mount or fd of this test is left', (t) => {
  t.deepEqual(leftoverGroups(), []);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

test.serial('a group whose processes have all ended is removed from every hierarchy by rmdir alone', async (t) => {
  const g = Cgroup.create({ layout, limits: { pids: { max: 16 } } });
  const child = await spawnIn(g, ['/bin/busybox', 'true']);
  t.is((await child.exited).status, 0);
  t.true(g.dirs.length > 1);
  t.true(g.removeIfEmpty());
  for (const dir of g.dirs) t.false(exists(dir), dir);
  t.true(g.deleted);
  t.true(g.removeIfEmpty(), 'again: nothing to do');
  await g.delete();
});

test.serial('a group that still holds a process is refused; kill() and delete() then finish, the process dies and every directory goes', async (t) => {
  const g = Cgroup.create({ layout });
  const child = await spawnIn(g, ['/bin/busybox', 'sleep', '30']);
  t.false(g.removeIfEmpty());
  t.false(g.deleted);
  t.true(alive(child.pid), 'the refusal touched no process');
  for (const dir of g.dirs) t.true(exists(dir), `${dir} is still there for kill()`);
  await g.kill();
  t.is((await child.exited).signal, 'SIGKILL');
  await g.delete();
  for (const dir of g.dirs) t.false(exists(dir), dir);
});

test.serial('a group with a child group is refused, and delete() removes both', async (t) => {
  const g = Cgroup.create({ layout });
  const inner = join(g.dirs[0]!, 'inner');
  mkdirSync(inner);
  t.false(g.removeIfEmpty());
  t.true(exists(inner));
  await g.delete();
  t.false(exists(inner));
  for (const dir of g.dirs) t.false(exists(dir), dir);
});
