import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ValidationError } from '@nsk/syscall';
import { hostState } from '@nsk/testkit';
import { list, NAMESPACE_TYPES, type NamespaceEntry } from '../src/index.ts';
import { box, links, stop, until, SIX, NS_FILES, leftovers } from './helpers.ts';

const before = hostState();
test.after.always('nothing is left behind: no mounts, children or fds', (t) => {
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

const inode = (link: string) => Number(/\[(\d+)\]/.exec(link)![1]);
const FILE_OF: Record<string, string> = { mount: 'mnt' };
const fileOf = (type: string) => FILE_OF[type] ?? type;

/** A container whose pid 1 is a shell with two sleeping children: three processes in each of its namespaces. */
async function threeProcesses() {
  const c = await box({ script: '/bin/busybox sleep 1000 & /bin/busybox sleep 1000 & wait' });
  const kids = () => readFileSync(`/proc/${c.pid}/task/${c.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  await until(() => kids().length === 2 && kids().every((k) => readFileSync(`/proc/${k}/cmdline`, 'utf8').includes('sleep')));
  return { c, pids: [c.pid, ...kids()].sort((a, b) => a - b) };
}

test('list() finds a container’s namespaces with the right process count, lowest pid, command, owner and parent', async (t) => {
  const { c, pids } = await threeProcesses();
  try {
    const all = list();
    const ours = links('self');
    const theirs = links(c.pid);
    for (const type of ['mount', 'uts', 'ipc', 'pid', 'net', 'cgroup'] as const) {
      const e = all.find((x) => x.type === type && x.inode === inode(theirs[fileOf(type) as keyof typeof theirs]));
      t.truthy(e, type);
      t.like(e, {
        nprocs: 3, pids, pid: pids[0], ppid: process.pid, uid: 0, user: 'root',
        // The container's namespaces belong to the user namespace they were made in: ours.
        owner: inode(ours.user), mounts: [],
      }, type);
    }
    t.is(all.find((e) => e.type === 'pid' && e.inode === inode(theirs.pid))!.parent, inode(ours.pid));
    t.is(all.find((e) => e.type === 'net' && e.inode === inode(theirs.net))!.command, `/bin/busybox sh -c /bin/busybox sleep 1000 & /bin/busybox sleep 1000 & wait`);
    // The host's namespaces hold this process too, and every kind is there.
    for (const f of NS_FILES) t.true(all.some((e) => fileOf(e.type) === f && e.inode === inode(ours[f]) && e.pids.includes(process.pid)), f);
    t.deepEqual([...new Set(all.map((e) => e.type))].sort(), [...NAMESPACE_TYPES].sort());
    t.deepEqual(list({ types: ['uts'] }).map((e) => e.type).filter((x) => x !== 'uts'), []);
  } finally {
    await stop(c);
  }
  t.throws(() => list({ types: ['mnt' as never] }), { instanceOf: ValidationError });
});

interface LsnsRow { ns: number; type: string; nprocs: number; pid: number; ppid: number; user: string; uid: number; command: string | null; ons: number; pns: number }

/** `lsns --json`, with lsns itself taken out of the counts of the namespaces it shares with us. */
function lsns(): Map<string, LsnsRow> | null {
  const r = spawnSync('lsns', ['--json', '-o', 'NS,TYPE,NPROCS,PID,PPID,USER,UID,COMMAND,ONS,PNS'], { encoding: 'utf8' });
  // Another package's fork-bomb test may briefly leave no pid to fork with: try again later.
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'EAGAIN') return null;
  if (r.status !== 0) throw new Error(`lsns failed: ${r.error?.message ?? r.stderr}`);
  const self = new Set(Object.values(links('self')));
  const rows = (JSON.parse(r.stdout) as { namespaces: LsnsRow[] }).namespaces;
  return new Map(rows.map((row) => {
    if (self.has(`${row.type}:[${row.ns}]`)) row.nprocs -= 1;
    return [`${row.type}:${row.ns}`, row];
  }));
}

/** Our entry in lsns's terms. */
const asLsns = (e: NamespaceEntry) => ({
  ns: e.inode, type: fileOf(e.type), nprocs: e.nprocs, pid: e.pid, ppid: e.ppid, user: e.user, uid: e.uid, command: e.command, ons: e.owner ?? 0, pns: e.parent ?? 0,
});

test.serial('list() agrees with util-linux lsns --json on every namespace held by stable processes', async (t) => {
  // Other tests start and end processes while lsns and list() run, so one
  // run of each is compared between two runs of lsns: a namespace whose row
  // lsns printed twice the same is stable, and ours must then equal it. A
  // namespace that did not match is looked at again in the next round;
  // one that keeps not matching while stable fails the test.
  const { c } = await threeProcesses();
  try {
    // Not vacuous: the container's six and the host's eight must be among those compared.
    const theirs = links(c.pid);
    const ours = links('self');
    const required = [
      ...SIX.map((type) => `${fileOf(type)}:${inode(theirs[fileOf(type) as keyof typeof theirs])}`),
      ...NS_FILES.map((f) => `${f}:${inode(ours[f])}`),
    ];
    const verified = new Set<string>();
    const lastDiff = new Map<string, string>();
    let pending: string[] = [];
    // Rounds for up to 40 s: long enough to outlast another test's burst of processes.
    const end = Date.now() + 40_000;
    for (let round = 0; Date.now() < end; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, Math.min(50 * round, 1000)));
      const first = lsns();
      const ourList = new Map(list().map((e) => [`${fileOf(e.type)}:${e.inode}`, asLsns(e)]));
      const second = lsns();
      if (!first || !second) continue;
      // Kinds: ours are exactly those lsns shows.
      const kinds = (m: Map<string, { type: string }>) => [...new Set([...m.values()].map((r) => r.type))].sort();
      t.deepEqual(kinds(ourList), kinds(first), 'the same kinds of namespace');
      pending = [];
      for (const [key, a] of first) {
        const b = second.get(key);
        if (!b || a.nprocs !== b.nprocs || a.pid !== b.pid) continue;
        const mine = ourList.get(key);
        const same = mine && mine.nprocs === a.nprocs && mine.pid === a.pid && mine.ppid === a.ppid && mine.user === a.user && mine.uid === a.uid
          && mine.command === a.command && mine.ons === a.ons && mine.pns === a.pns;
        if (same) verified.add(key);
        else if (!verified.has(key)) {
          lastDiff.set(key, `${key}: lsns ${JSON.stringify(a)}, ours ${JSON.stringify(mine ?? null)}`);
          pending.push(lastDiff.get(key)!);
        }
      }
      pending.push(...required.filter((k) => !verified.has(k) && !pending.some((p) => p.startsWith(`${k}:`))).map((k) => lastDiff.get(k) ?? `${k}: never stable`));
      if (pending.length === 0) break;
    }
    t.deepEqual(pending, [], 'namespaces that kept differing from lsns while stable');
    t.log(`${verified.size} namespaces agreed with lsns`);
  } finally {
    await stop(c);
  }
});
