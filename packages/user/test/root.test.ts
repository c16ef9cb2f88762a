// As root (CAP_SETUID and CAP_SETGID in the parent namespace): any map the
// kernel accepts is written directly, and setgroups stays allowed.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { hostState, leftSince, nsInode, run } from '@nsk/testkit';
import { readIdMap, toInside, toOutside, user, type IdRange, type UserOptions } from '../src/index.ts';
import { identity, type Identity } from './helpers/identity.ts';

const before = hostState();
test.after.always('nothing is left behind', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});

const BUSYBOX = '/bin/busybox';

interface Seen { inside: string[]; status: Identity; uidMap: IdRange[]; gidMap: IdRange[]; setgroups: string; userNs: number }

/** Runs `script` in a user namespace made by `options`; looks at it from the host while it sleeps, then kills it. */
async function observe(options: UserOptions, script: string): Promise<Seen> {
  let seen: Omit<Seen, 'inside'> | undefined;
  const r = await run({ argv: [BUSYBOX, 'sh', '-c', `${script}; exec ${BUSYBOX} sleep 30`], features: [user(options)] }, async (child) => {
    // The script's output is written before sh execs sleep; wait for that.
    const sleeping = () => readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0')[1] === 'sleep';
    for (let i = 0; i < 500 && !sleeping(); i++) await new Promise((res) => setTimeout(res, 10));
    if (!sleeping()) throw new Error('the script did not reach sleep');
    seen = {
      status: identity(child.pid),
      uidMap: readIdMap(child.pid, 'uid'),
      gidMap: readIdMap(child.pid, 'gid'),
      setgroups: readFileSync(`/proc/${child.pid}/setgroups`, 'utf8').trim(),
      userNs: nsInode(child.pid, 'user'),
    };
    child.kill('SIGKILL');
  });
  if (r.signal !== 'SIGKILL') throw new Error(`child ended on its own (${r.status}): ${r.stderr}`);
  return { ...seen!, inside: r.stdout.trim().split('\n') };
}

const RANGE = [{ inside: 0, outside: 100000, count: 65536 }];

test('an explicit map: root inside is 100000 outside, and the host reads the same map back', async (t) => {
  const s = await observe({ uidMap: RANGE, gidMap: RANGE }, `${BUSYBOX} id -u; ${BUSYBOX} id -g; cat /proc/self/uid_map`);
  t.deepEqual(s.inside.slice(0, 2), ['0', '0']);
  t.regex(s.inside[2]!, /^\s*0\s+100000\s+65536$/);
  t.deepEqual(s.status.uid, [100000, 100000, 100000, 100000]);
  t.deepEqual(s.status.gid, [100000, 100000, 100000, 100000]);
  t.deepEqual(s.status.groups, [], 'the host’s supplementary groups were dropped (setgroups is allowed)');
  t.deepEqual(s.uidMap, RANGE);
  t.deepEqual(s.gidMap, RANGE);
  t.is(s.setgroups, 'allow');
  t.not(s.userNs, nsInode('self', 'user'));
});

test('uid, gid and groups inside are switched to, each translated through the map', async (t) => {
  const uidMap = [{ inside: 0, outside: 200000, count: 1 }, { inside: 1, outside: 300000, count: 5000 }];
  const gidMap = [{ inside: 0, outside: 200000, count: 1 }, { inside: 1, outside: 400000, count: 5000 }];
  const s = await observe({ uidMap, gidMap, uid: 1000, gid: 100, groups: [10, 20] }, `${BUSYBOX} id -u; ${BUSYBOX} id -g; ${BUSYBOX} id -G; cat /proc/self/status | grep CapEff`);
  t.deepEqual(s.inside.slice(0, 3), ['1000', '100', '100 10 20']);
  t.regex(s.inside[3]!, /CapEff:\s+0000000000000000/, 'a non-zero uid inside has no capabilities');
  t.deepEqual(s.status.uid, Array(4).fill(toOutside(uidMap, 1000)));
  t.is(toOutside(uidMap, 1000), 300999);
  t.deepEqual(s.status.gid, Array(4).fill(400099));
  t.deepEqual(s.status.groups, [400009, 400019]);
  t.is(toInside(s.gidMap, s.status.groups[1]!), 20);
});

test('by default root maps itself alone, as unshare --map-root-user does', async (t) => {
  const s = await observe({}, `${BUSYBOX} id -u; cat /proc/self/gid_map`);
  t.is(s.inside[0], '0');
  t.deepEqual(s.uidMap, [{ inside: 0, outside: 0, count: 1 }]);
  t.deepEqual(s.gidMap, [{ inside: 0, outside: 0, count: 1 }]);
  t.deepEqual(s.status.uid, [0, 0, 0, 0]);
  t.is(s.setgroups, 'allow');
});

test('ids the map leaves out show as the overflow id inside', async (t) => {
  const s = await observe({ uidMap: RANGE, gidMap: RANGE }, `${BUSYBOX} stat -c %u /proc/1; cat /proc/sys/kernel/overflowuid`);
  // pid 1's /proc entry belongs to host root, which this namespace does not map.
  t.deepEqual(s.inside, ['65534', '65534']);
});

test('many ranges, up to the kernel’s limit of 340, are written in one go', async (t) => {
  // Every other id, so that no two lines could be merged into one.
  const map = Array.from({ length: 340 }, (_, i) => ({ inside: i * 2, outside: 5000 + i * 2, count: 1 }));
  const s = await observe({ uidMap: map, gidMap: RANGE, uid: 678 }, `${BUSYBOX} id -u`);
  t.is(s.inside[0], '678');
  t.deepEqual(s.uidMap, map);
  t.deepEqual(s.status.uid, Array(4).fill(5678));
});
