import test from 'ava';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { Plan, explainSpawn, spawn, type NamespaceName } from '@nsk/clone';
import { AT, CLONE, O, SyscallError, ValidationError } from '@nsk/syscall';
import { hostState, leftSince, nsInode, rootMap, run } from '@nsk/testkit';
import { clockGetTime, formatTimeOffsets, parseTimeOffsets, planTime, readTimeOffsets, time, toTimespec } from '../src/index.ts';

const before = hostState();
const bb = '/bin/busybox';
const uptime = (text = readFileSync('/proc/uptime', 'utf8')) => Number(text.split(' ')[0]);
const zero = { monotonic: { seconds: 0, nanoseconds: 0 }, boottime: { seconds: 0, nanoseconds: 0 } };

test.after.always('nothing is left behind, and the host’s clocks are not shifted', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
  t.deepEqual(left.fds, []);
  t.deepEqual(readTimeOffsets(), zero);
});

test('inside, /proc/uptime runs ahead by the boottime offset and the offsets file shows both; the host’s is unchanged', async (t) => {
  const hostBefore = uptime();
  let ns = { time: 0, forChildren: 0 };
  const r = await run({
    argv: [bb, 'sh', '-c', 'cat /proc/uptime /proc/self/timens_offsets; sleep 0.2'],
    features: [time({ monotonic: -1.25, boottime: 86400 })],
  }, (child) => {
    ns = { time: nsInode(child.pid, 'time'), forChildren: nsInode(child.pid, 'time_for_children') };
  });
  const hostAfter = uptime();
  t.is(r.code, 0, r.stderr);
  const [up, ...offsets] = r.stdout.trim().split('\n');
  t.true(Math.abs(uptime(up) - hostBefore - 86400) < 1, `inside ${up}, host ${hostBefore}`);
  t.true(hostAfter - hostBefore < 5, 'the host’s uptime just went on');
  t.deepEqual(parseTimeOffsets(offsets.join('\n')), { monotonic: { seconds: -2, nanoseconds: 750_000_000 }, boottime: { seconds: 86400, nanoseconds: 0 } });
  // The program execve ran is itself in the new namespace, not only its children.
  t.is(ns.time, ns.forChildren);
  t.not(ns.time, nsInode('self', 'time'));
});

test('CLOCK_MONOTONIC read through the vDSO (a Node inside) is shifted too', async (t) => {
  const offset = 1000;
  const h0 = clockGetTime('monotonic');
  const r = await run({ argv: [process.execPath, '-e', 'console.log(String(process.hrtime.bigint()))'], features: [time({ monotonic: offset })] });
  const h1 = clockGetTime('monotonic');
  t.is(r.code, 0, r.stderr);
  const inside = Number(BigInt(r.stdout.trim()) / 1_000_000n) / 1000;
  t.true(inside - offset > h0.seconds - 1 && inside - offset < h1.seconds + 1, `inside ${inside}, host ${h0.seconds}..${h1.seconds}`);
});

test('a negative offset that keeps the clock positive works; in a user namespace too (it owns the time namespace)', async (t) => {
  const back = -Math.floor(uptime() / 2);
  const r = await run({ argv: [bb, 'cat', '/proc/uptime'], namespaces: ['user'], features: [rootMap(), time({ boottime: back })] });
  t.is(r.code, 0, r.stderr);
  t.true(Math.abs(uptime(r.stdout) - (uptime() + back)) < 1);
});

test('once the program runs, its offsets are frozen: writing them fails with EACCES', async (t) => {
  await run({ argv: [bb, 'sleep', '0.3'], features: [time({ boottime: 10 })] }, (child) => {
    const err = t.throws(() => writeFileSync(`/proc/${child.pid}/timens_offsets`, 'boottime 20 0\n'));
    t.is((err as NodeJS.ErrnoException).code, 'EACCES');
    t.deepEqual(readTimeOffsets(child.pid).boottime, { seconds: 10, nanoseconds: 0 });
  });
});

test('the plan is unshare(CLONE_NEWTIME), then open, write and close the offsets file', (t) => {
  const plan = new Plan();
  planTime(plan, { monotonic: 5, boottime: { seconds: -1, nanoseconds: 5 } });
  t.deepEqual(plan.steps.map((s) => s.syscall), ['unshare', 'openat', 'write', 'close']);
  t.regex(plan.explain(), /unshare\(CLONE_NEWTIME\)[^]*openat\(AT_FDCWD, "\/proc\/self\/timens_offsets", O_WRONLY\|O_CLOEXEC[^]*"monotonic 5 0\\nboottime -1 5\\n"/);
  const bare = new Plan();
  planTime(bare, {});
  t.deepEqual(bare.steps.map((s) => s.syscall), ['unshare']);
  // No clone flag: the namespace comes from the plan.
  t.regex(explainSpawn({ argv: ['/bin/true'], features: [time()] }), /^clone\(SIGCHLD\)/m);
});

test('spawn refuses "time" in namespaces, and a child without time() shares the host’s clocks', async (t) => {
  await t.throwsAsync(spawn({ argv: ['/bin/true'], namespaces: ['time' as NamespaceName] }), { instanceOf: ValidationError, message: /@nsk\/time/ });
  let inode = 0;
  const r = await run({ argv: [bb, 'sh', '-c', 'cat /proc/uptime; sleep 0.2'], namespaces: ['uts', 'ipc', 'pid'] }, (child) => { inode = nsInode(child.pid, 'time'); });
  t.is(r.code, 0, r.stderr);
  t.is(inode, nsInode('self', 'time'));
  t.true(Math.abs(uptime(r.stdout) - uptime()) < 1);
});

test('offsets are seconds or { seconds, nanoseconds }, normalized as the kernel takes them', (t) => {
  t.deepEqual(toTimespec('x', 1.5), { seconds: 1, nanoseconds: 500_000_000 });
  t.deepEqual(toTimespec('x', -1.5), { seconds: -2, nanoseconds: 500_000_000 });
  t.deepEqual(toTimespec('x', 0.9999999999), { seconds: 1, nanoseconds: 0 });
  t.deepEqual(toTimespec('x', { seconds: -3 }), { seconds: -3, nanoseconds: 0 });
  t.is(formatTimeOffsets({ boottime: { seconds: 7, nanoseconds: 1 } }), 'boottime 7 1\n');
  t.deepEqual(parseTimeOffsets('monotonic           0         0\nboottime         -12 500\n'), { monotonic: { seconds: 0, nanoseconds: 0 }, boottime: { seconds: -12, nanoseconds: 500 } });
});

test('bad offsets are refused before anything is created', (t) => {
  const now = clockGetTime('boottime').seconds;
  const bad: Array<[Parameters<typeof time>[0], string, RegExp]> = [
    [{ monotonic: Number.NaN }, 'monotonic', /finite/],
    [{ boottime: Number.POSITIVE_INFINITY }, 'boottime', /finite/],
    [{ boottime: { seconds: 1.5 } }, 'boottime.seconds', /whole/],
    [{ boottime: { seconds: 1, nanoseconds: 1e9 } }, 'boottime.nanoseconds', /0 to 999999999/],
    [{ boottime: { seconds: 1, nanoseconds: -1 } }, 'boottime.nanoseconds', /0 to 999999999/],
    [{ boottime: -(now + 10) }, 'boottime', /negative/],
    [{ monotonic: 4_611_686_018 }, 'monotonic', /beyond/],
  ];
  for (const [options, field, message] of bad) {
    const err = t.throws(() => time(options), { instanceOf: ValidationError, message });
    t.is(err?.field, field);
  }
});

test('what the kernel itself refuses, when validation is bypassed: ERANGE for a negative clock, EINVAL for bad nanoseconds', async (t) => {
  const write = async (text: string) => {
    const plan = new Plan();
    plan.unshare(CLONE.NEWTIME);
    const fd = plan.openat(AT.FDCWD, '/proc/self/timens_offsets', O.WRONLY);
    plan.write(fd, text, { label: 'set the clock offsets' });
    return t.throwsAsync(spawn({ argv: ['/bin/true'], plan }), { instanceOf: SyscallError });
  };
  t.like(await write(`boottime -${Math.ceil(uptime()) + 10} 0\n`), { errno: 'ERANGE', step: 'set the clock offsets', syscall: 'write' });
  t.like(await write('boottime 1 1000000000\n'), { errno: 'EINVAL' });
  t.like(await write('realtime 1 0\n'), { errno: 'EINVAL' });
});

test('clockGetTime agrees with Node’s own monotonic clock and /proc/uptime', (t) => {
  const a = process.hrtime.bigint();
  const m = clockGetTime('monotonic');
  const b = process.hrtime.bigint();
  const ns = BigInt(m.seconds) * 1_000_000_000n + BigInt(m.nanoseconds);
  t.true(ns >= a && ns <= b);
  t.true(Math.abs(clockGetTime('boottime').seconds - uptime()) <= 1);
  t.true(Math.abs(clockGetTime('realtime').seconds - Date.now() / 1000) <= 1);
  t.throws(() => clockGetTime('tai' as 'realtime'), { instanceOf: ValidationError });
});
