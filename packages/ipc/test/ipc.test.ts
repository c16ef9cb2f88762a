import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { Plan, explainSpawn, type Arg } from '@nsk/clone';
import { MS, O, SyscallError, ValidationError } from '@nsk/syscall';
import { hostState, leftSince, nsInode, run } from '@nsk/testkit';
import { IPC, ipc, mqCreate, mqList, mqRemove, parseShmList, shmCreate, shmList, shmRemove } from '../src/index.ts';

const before = hostState();
const dir = mkdtempSync(join(tmpdir(), 'nsk-ipc-test-'));
const bb = '/bin/busybox';
// Keys and names no other run on this machine will pick.
const keys = Array.from({ length: 3 }, () => randomInt(0x10000000, 0x7fffffff));
const queue = `/nsk-test-${process.pid}-${randomInt(1e9)}`;
const num = (value: number): Arg => ({ kind: 'num', value });
const str = (value: string): Arg => ({ kind: 'str', value });

test.after.always('nothing is left behind: no mount, child, fd, segment or queue', (t) => {
  rmSync(dir, { recursive: true, force: true });
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
  t.deepEqual(left.fds, []);
  t.deepEqual(shmList().filter((s) => keys.includes(s.key)), []);
  t.throws(() => mqRemove(queue), { instanceOf: SyscallError, code: 'ENOENT' });
});

/** A raw plan step: shmget(key, 4096, IPC_CREAT|IPC_EXCL|0600). */
function shmgetStep(key: number): Plan {
  const plan = new Plan();
  plan.add('shmget', [num(key), num(4096), num(IPC.CREAT | IPC.EXCL | 0o600)], `make shm segment ${key}`);
  return plan;
}

/** Steps that mount the IPC namespace's mqueue filesystem on `dir`, privately. */
function mqueueMount(plan = new Plan()): Plan {
  plan.mount(null, '/', null, MS.REC | MS.PRIVATE, null);
  plan.mount('mqueue', dir, 'mqueue', MS.NOSUID | MS.NODEV | MS.NOEXEC);
  return plan;
}

test.serial('a segment made inside is invisible to the host, and the host’s is invisible inside', async (t) => {
  const [hostKey, innerKey] = keys as [number, number];
  const hostId = shmCreate(4096, { key: hostKey });
  try {
    let seen = { inode: 0, host: [] as number[] };
    const r = await run({ argv: [bb, 'sh', '-c', 'cat /proc/sysvipc/shm; sleep 0.2'], features: [ipc()], plan: shmgetStep(innerKey) }, (child) => {
      seen = { inode: nsInode(child.pid, 'ipc'), host: shmList().map((s) => s.key) };
    });
    t.is(r.code, 0, r.stderr);
    t.deepEqual(parseShmList(r.stdout).map((s) => s.key), [innerKey], 'inside: its own segment only');
    t.true(seen.host.includes(hostKey));
    t.false(seen.host.includes(innerKey), 'the host never sees the inner segment');
    t.not(seen.inode, nsInode('self', 'ipc'));
  } finally {
    shmRemove(hostId);
  }
  t.false(shmList().some((s) => s.key === hostKey));
});

test.serial('without ipc() the same step makes the segment in the host’s namespace (the test above would fail)', async (t) => {
  const key = keys[2]!;
  let childPid = 0;
  const r = await run({ argv: ['/bin/true'], plan: shmgetStep(key) }, (child) => { childPid = child.pid; });
  t.is(r.code, 0);
  const leaked = shmList().find((s) => s.key === key);
  t.like(leaked, { key, size: 4096, mode: 0o600, creatorPid: childPid, attached: 0 });
  shmRemove(leaked!.id);
  t.false(shmList().some((s) => s.key === key));
});

test.serial('a POSIX queue made inside is listed by the container’s mqueue filesystem only, and the host’s is not there', async (t) => {
  mqCreate(queue);
  try {
    // The host's queues, through an mqueue mount in a child that shares the host's IPC namespace.
    await run({ argv: [bb, 'sleep', '10'], namespaces: ['mount'], plan: mqueueMount() }, async (host) => {
      const inner = mqueueMount();
      inner.add('mq_open', [str('nsk-inner'), num(O.CREAT | O.RDWR | O.CLOEXEC), num(0o600), num(0)], 'make queue /nsk-inner');
      await run({ argv: [bb, 'sleep', '10'], namespaces: ['mount'], features: [ipc()], plan: inner }, (box) => {
        t.deepEqual(mqList(`/proc/${box.pid}/root${dir}`), [{ name: '/nsk-inner', bytes: 0 }]);
        const hostQueues = mqList(`/proc/${host.pid}/root${dir}`).map((q) => q.name);
        t.true(hostQueues.includes(queue));
        t.false(hostQueues.includes('/nsk-inner'));
        box.kill();
      });
      host.kill();
    });
  } finally {
    mqRemove(queue);
  }
});

test.serial('opening the host’s queue inside fails with ENOENT, and succeeds without ipc()', async (t) => {
  mqCreate(queue);
  try {
    const open = () => {
      const plan = new Plan();
      plan.add('mq_open', [str(queue.slice(1)), num(O.RDWR | O.CLOEXEC), num(0), num(0)], `open queue ${queue}`);
      return plan;
    };
    const err = await t.throwsAsync(run({ argv: ['/bin/true'], features: [ipc()], plan: open() }), { instanceOf: SyscallError });
    t.is(err?.errno, 'ENOENT');
    t.is(err?.step, `open queue ${queue}`);
    t.is((await run({ argv: ['/bin/true'], plan: open() })).code, 0);
  } finally {
    mqRemove(queue);
  }
});

test('shmCreate, shmList and shmRemove: a private segment of this process, then gone', (t) => {
  const id = shmCreate(8192, { mode: 0o640 });
  t.like(shmList().find((s) => s.id === id), { key: 0, size: 8192, mode: 0o640, creatorPid: process.pid, attached: 0, uid: 0 });
  shmRemove(id);
  t.false(shmList().some((s) => s.id === id));
  t.throws(() => shmRemove(id), { instanceOf: SyscallError, code: 'EINVAL' });
});

test('ipc() is CLONE_NEWIPC and no steps', (t) => {
  t.deepEqual(explainSpawn({ argv: ['/bin/true'], features: [ipc()] }), explainSpawn({ argv: ['/bin/true'], namespaces: ['ipc'] }));
  t.regex(explainSpawn({ argv: ['/bin/true'], features: [ipc()] }), /^clone\(CLONE_NEWIPC\|SIGCHLD\)/);
});

test('bad arguments are refused before any system call', (t) => {
  t.throws(() => shmCreate(0), { instanceOf: ValidationError, message: /size/ });
  t.throws(() => shmCreate(4096, { key: 2 ** 32 }), { instanceOf: ValidationError, message: /key/ });
  t.throws(() => shmCreate(4096, { mode: 0o1777 }), { instanceOf: ValidationError, message: /mode/ });
  t.throws(() => mqCreate('no-slash'), { instanceOf: ValidationError, message: /queue name/ });
  t.throws(() => mqCreate('/a/b'), { instanceOf: ValidationError, message: /queue name/ });
  t.throws(() => mqList(dir), { instanceOf: ValidationError, message: /not an mqueue filesystem/ });
});
