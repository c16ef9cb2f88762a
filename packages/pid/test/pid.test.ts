import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { rootfs } from '@nsk/mount';
import { hostState, leftSince, nsInode, run, testRootfs } from '@nsk/testkit';
import { innerPid, nsPids, outerPid, pid, processesInNamespaceOf } from '../src/index.ts';

const before = hostState();
const root = testRootfs();
const inRoot = [pid(), rootfs({ path: root })];

test.after.always('nothing is left behind', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});

test('the child is PID 1 of a new pid namespace and ps lists only its own processes', async (t) => {
  const r = await run({ argv: ['/bin/sh', '-c', 'echo $$; ps -o pid,comm; exit 0'], features: inRoot });
  t.is(r.code, 0, r.stderr);
  const [self, header, ...rows] = r.stdout.trim().split('\n');
  t.is(self, '1');
  t.regex(header!, /PID/);
  // sh as 1 and ps itself: nothing of the host's.
  t.deepEqual(rows.map((l) => l.trim().split(/\s+/)), [['1', 'sh'], ['2', 'ps']]);
});

test('the host sees the same process under another pid, and NSpid translates both ways', async (t) => {
  let seen: { outer: number; ids: number[]; ns: number; hostNs: number; back: number | null } | undefined;
  const r = await run({ argv: ['/bin/sh', '-c', 'sleep 30; exit 0'], features: inRoot }, async (child) => {
    seen = { outer: child.pid, ids: nsPids(child.pid), ns: nsInode(child.pid, 'pid'), hostNs: nsInode('self', 'pid'), back: outerPid(child.pid, 1) };
    child.kill('SIGKILL');
  });
  t.is(r.signal, 'SIGKILL');
  t.deepEqual(seen!.ids, [seen!.outer, 1]);
  t.not(seen!.ns, seen!.hostNs);
  t.is(seen!.back, seen!.outer);
});

test('a grandchild is listed among the namespace’s processes and translated to its inner pid', async (t) => {
  const r = await run({ argv: ['/bin/sh', '-c', 'sleep 30 & echo $!; sleep 30; exit 0'], features: inRoot }, async (child) => {
    let members: number[] = [];
    for (let i = 0; i < 100 && members.length < 3; i++) {
      members = processesInNamespaceOf(child.pid);
      await sleep(10);
    }
    t.is(members.length, 3); // sh, the background sleep, the foreground sleep
    const sleeper = outerPid(child.pid, 2)!;
    t.true(members.includes(sleeper));
    t.is(innerPid(sleeper), 2);
    t.is(outerPid(child.pid, 2), sleeper);
    t.false(processesInNamespaceOf(child.pid).includes(process.pid));
    child.kill('SIGKILL');
  });
  t.is(r.stdout.trim(), '2');
});

test('PID 1 ignores signals it has no handler for, even from inside; SIGKILL from outside ends it', async (t) => {
  // pid_namespaces(7): "only signals for which the init process has
  // established a signal handler can be sent to the init process by other
  // members of the pid namespace"; from an ancestor namespace, SIGKILL and
  // SIGSTOP are forced.
  const r = await run({ argv: ['/bin/sh', '-c', 'kill -TERM 1; kill -HUP 1; kill -USR1 1; echo alive; sleep 30; exit 0'], features: inRoot }, async (child) => {
    await sleep(200);
    t.true(existsSync(`/proc/${child.pid}`));
    child.kill('SIGTERM'); // from outside, but sh has no handler either: ignored
    await sleep(100);
    t.regex(readFileSync(`/proc/${child.pid}/status`, 'utf8'), /State:\s+S/);
    child.kill('SIGKILL');
  });
  t.is(r.stdout.trim(), 'alive');
  t.is(r.signal, 'SIGKILL');
});

test('a signal PID 1 has a handler for is delivered', async (t) => {
  const r = await run({ argv: ['/bin/sh', '-c', 'trap "echo caught; exit 3" USR1; kill -USR1 1; sleep 1; exit 0'], features: inRoot });
  t.is(r.stdout.trim(), 'caught');
  t.is(r.code, 3);
});

test('when PID 1 dies, the kernel kills every other process of the namespace', async (t) => {
  let sleeper = 0;
  const r = await run({ argv: ['/bin/sh', '-c', 'sleep 30 & sleep 30; exit 0'], features: inRoot }, async (child) => {
    for (let i = 0; i < 100 && !sleeper; i++) {
      sleeper = processesInNamespaceOf(child.pid).find((p) => p !== child.pid) ?? 0;
      await sleep(10);
    }
    t.true(sleeper > 0);
    child.kill('SIGKILL');
  });
  t.is(r.signal, 'SIGKILL');
  // The orphaned sleeper was killed with its namespace, not re-parented to the host's init.
  for (let i = 0; i < 100 && existsSync(`/proc/${sleeper}`); i++) await sleep(10);
  t.false(existsSync(`/proc/${sleeper}`));
});

test('mountProc gives a standalone pid namespace its own /proc without touching the host’s', async (t) => {
  const r = await run({ argv: ['/bin/busybox', 'sh', '-c', 'ls /proc | grep -E "^[0-9]+$" | sort -n | tr "\\n" " "'], features: [pid({ mountProc: true })] });
  t.is(r.code, 0, r.stderr);
  // Only sh, ls, grep, sort, tr — all low pids of the new namespace.
  const pids = r.stdout.trim().split(' ').map(Number);
  t.is(pids[0], 1);
  t.true(pids.every((p) => p < 10), r.stdout);
  t.true(existsSync(`/proc/${process.pid}`));
});

test('nsPids of a missing process is a clear error', (t) => {
  t.throws(() => nsPids(2 ** 22 + 7), { message: /no process 4194311/ });
});
