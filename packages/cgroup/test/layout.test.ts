// The layout detected is the one the kernel reports: /proc/cgroups names
// each controller's hierarchy, /proc/self/cgroup the hierarchies a process
// is in, and the cgroup2 root lists its controllers.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupUnavailableError, detectLayout, parseProcCgroup, restrictLayout } from '../src/index.ts';
import { hostState, leftSince } from '@nsk/testkit';
import { leftoverGroups } from './helpers.ts';

const before = hostState();

test.after.always('no cgroup, process, mount or fd of this test is left', (t) => {
  t.deepEqual(leftoverGroups(), []);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

test('every enabled controller of /proc/cgroups is in one v1 hierarchy of the layout, or offered by its cgroup2 root', (t) => {
  const layout = detectLayout();
  const rows = readFileSync('/proc/cgroups', 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  const v2Offers = layout.v2 ? readFileSync(join(layout.v2.mountPoint, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean) : [];
  t.deepEqual(layout.v2?.controllers ?? [], v2Offers);
  const mountedV1 = new Set(layout.v1.flatMap((h) => h.controllers));
  for (const [name, hierarchy, , enabled] of rows) {
    if (enabled !== '1') continue;
    // cgroups(7): hierarchy ID 0 means the controller is on v2 (or unused).
    if (hierarchy === '0') t.false(mountedV1.has(name!), `${name} is on no v1 hierarchy`);
    else t.true(mountedV1.has(name!) , `${name} is in v1 hierarchy ${hierarchy}`);
    // A controller is in at most one hierarchy.
    t.false(mountedV1.has(name!) && v2Offers.includes(name!), `${name} is not on both sides`);
  }
  // Each v1 hierarchy is a mounted cgroup filesystem carrying exactly its controllers.
  for (const h of layout.v1) {
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === h.mountPoint)!;
    t.regex(line, / - cgroup /);
    for (const c of h.controllers) t.true(line.split(' - ')[1]!.split(' ')[2]!.split(',').includes(c));
  }
});

test('the kind follows from the parts, and this process is listed in each hierarchy of the layout', (t) => {
  const layout = detectLayout();
  t.is(layout.kind, layout.v1.length === 0 ? 'v2' : layout.v2 ? 'hybrid' : 'v1');
  const mine = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  for (const h of layout.v1) t.true(mine.some((l) => h.controllers.every((c) => l.controllers.includes(c))), h.mountPoint);
  if (layout.v2) t.true(mine.some((l) => l.id === 0));
});

test('restricting a layout keeps one side, and refuses a side the host lacks', (t) => {
  const layout = detectLayout();
  if (layout.v2) {
    const v2 = restrictLayout(layout, 'v2');
    t.deepEqual([v2.kind, v2.v1.length, v2.v2], ['v2', 0, layout.v2]);
  } else {
    t.throws(() => restrictLayout(layout, 'v2'), { instanceOf: CgroupUnavailableError });
  }
  if (layout.v1.length) {
    const v1 = restrictLayout(layout, 'v1');
    t.deepEqual([v1.kind, v1.v1, v1.v2], ['v1', layout.v1, null]);
  } else {
    t.throws(() => restrictLayout(layout, 'v1'), { instanceOf: CgroupUnavailableError });
  }
});
