import test from 'ava';
import { AT, MS, O } from '@nsk/syscall';
import { Plan, encodePlan } from '../src/index.ts';

test('a plan is an ordered list of steps, each with its call and its sentence', (t) => {
  const plan = new Plan();
  plan.mount(null, '/', null, MS.REC | MS.PRIVATE);
  plan.mkdirat(AT.FDCWD, '/tmp/x', 0o755, { tolerate: 'EEXIST' });
  plan.sethostname('box');
  plan.execve('/bin/sh', ['sh', '-c', 'true'], ['PATH=/bin']);
  t.deepEqual(plan.steps.map((s) => [s.syscall, s.label]), [
    ['mount', 'set propagation of /'],
    ['mkdirat', 'create directory /tmp/x'],
    ['sethostname', 'set hostname to "box"'],
    ['execve', 'execute /bin/sh'],
  ]);
  t.is(plan.steps[1]!.tolerate, 17);
});

test('explain() prints the plan as strace would, folding repeated steps', (t) => {
  const plan = new Plan();
  plan.mount('proc', '/proc', 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC);
  const fd = plan.openat(AT.FDCWD, '/', O.DIRECTORY | O.RDONLY);
  plan.fchdir(fd);
  for (const sig of [1, 2, 3]) plan.resetSignal(sig);
  plan.execve('/bin/sh', ['sh'], []);
  t.is(plan.explain('x86_64'), [
    '    0  mount("proc", "/proc", "proc", MS_NOEXEC|MS_NODEV|MS_NOSUID, NULL)  # mount proc on /proc',
    '    1  openat(AT_FDCWD, "/", O_RDONLY|O_CLOEXEC|O_DIRECTORY, 00)     # open /',
    '    2  fchdir(<result of step 1>)                                    # change directory to <fd of step 1>',
    '  3-5  rt_sigaction(…) ×3                                            # reset signal dispositions',
    '    6  execve("/bin/sh", ["sh"], [])                                 # execute /bin/sh',
  ].join('\n'));
});

test('a step can use an earlier step’s result; a later one cannot be referenced', (t) => {
  const plan = new Plan();
  const fd = plan.openat(AT.FDCWD, '/', O.RDONLY);
  plan.fchdir(fd);
  t.deepEqual(plan.steps[1]!.args[0], { kind: 'ref', step: 0 });
  const bad = new Plan();
  bad.fchdir({ kind: 'ref', step: 3 });
  t.throws(() => bad.encode({ base: 0x1000n, arch: 'x86_64', errorFd: 3 }), { instanceOf: RangeError, message: /does not come before it/ });
});

test('appending a plan keeps its references pointing at its own steps', (t) => {
  const inner = new Plan();
  const fd = inner.openat(AT.FDCWD, '/', O.RDONLY);
  inner.fchdir(fd);
  const outer = new Plan();
  outer.sethostname('a');
  outer.append(inner);
  t.deepEqual(outer.steps[2]!.args[0], { kind: 'ref', step: 1 });
});

test('entering a user namespace with setns marks the plan as needing its own memory', (t) => {
  const plan = new Plan();
  plan.setns(5, 0x4000000);
  t.false(plan.needsPrivateMemory);
  plan.setns(6, 0x10000000);
  t.true(plan.needsPrivateMemory);
});

test('openat adds O_CLOEXEC unless asked to let the fd through', (t) => {
  const plan = new Plan();
  plan.openat(AT.FDCWD, '/a', O.RDONLY);
  plan.openat(AT.FDCWD, '/b', O.RDONLY, 0, { inherit: true });
  const flags = plan.steps.map((s) => s.args[2]!);
  t.like(flags[0], { value: O.CLOEXEC });
  t.like(flags[1], { value: 0 });
});

test('a mount step encodes byte for byte as the trampoline reads it (x86_64)', (t) => {
  const plan = new Plan();
  plan.mount('none', '/m', 'tmpfs', 0, null, { tolerate: 'EBUSY' });
  const fd = plan.openat(AT.FDCWD, '/', O.RDONLY);
  plan.fchdir(fd);
  const base = 0x10000000n;
  const bytes = encodePlan(plan.steps, { base, arch: 'x86_64', errorFd: 7 });
  const v = new DataView(bytes.buffer);
  const u64 = (at: number) => v.getBigUint64(at, true);
  const cstr = (addr: bigint) => {
    const at = Number(addr - base);
    return new TextDecoder().decode(bytes.subarray(at, bytes.indexOf(0, at)));
  };
  t.is(u64(0), 7n); // error fd
  // step 0: mount(165)
  t.is(u64(16), 165n);
  t.is(cstr(u64(24)), 'none');
  t.is(cstr(u64(32)), '/m');
  t.is(cstr(u64(40)), 'tmpfs');
  t.is(u64(48), 0n);
  t.is(u64(56), 0n);
  t.is(v.getUint16(16 + 56, true), 16); // EBUSY tolerated
  t.is(v.getUint8(16 + 58), 0); // no indirect args
  // step 1: openat(257) stores its result; step 2: fchdir(81) reads it indirectly
  t.is(u64(80), 257n);
  t.is(u64(88), 0xffffffffffffff9cn); // AT_FDCWD = -100
  const slot = v.getUint32(80 + 60, true);
  t.not(slot, 0);
  t.is(u64(144), 81n);
  t.is(v.getUint8(144 + 58), 0b1);
  t.is(u64(152), base + BigInt(slot));
  // end marker
  t.is(v.getBigInt64(208, true), -1n);
  t.is(bytes.length % 8, 0);
});

test('aarch64 plans use aarch64 numbers', (t) => {
  const plan = new Plan();
  plan.execve('/bin/true', ['true']);
  const bytes = encodePlan(plan.steps, { base: 0n, arch: 'aarch64', errorFd: 3 });
  t.is(new DataView(bytes.buffer).getBigUint64(16, true), 221n);
});

test('a struct can point at another placed block: seccomp’s sock_fprog holds the filter’s address', (t) => {
  const filter = new Uint8Array(16).fill(0xab); // two sock_filter instructions
  const plan = new Plan();
  plan.seccomp(0, filter, { filter: '<test>' });
  const base = 0x7000_0000n;
  const out = encodePlan(plan.steps, { base, arch: 'x86_64', errorFd: 3 });
  const v = new DataView(out.buffer);
  const step = 16; // the header, then step 0
  t.is(v.getBigInt64(step, true), 317n); // seccomp on x86_64
  t.is(v.getBigUint64(step + 8, true), 1n); // SECCOMP_SET_MODE_FILTER
  const prog = Number(v.getBigUint64(step + 24, true) - base);
  t.is(v.getUint16(prog, true), 2); // len, in instructions
  const at = Number(v.getBigUint64(prog + 8, true) - base);
  t.deepEqual(out.slice(at, at + 16), filter);
  t.is(out.length, plan.encodedSize);
  t.regex(plan.explain(), /seccomp\(SECCOMP_SET_MODE_FILTER, 0, \{len=2, filter=<test>\}\)/);
  t.throws(() => plan.seccomp(0, new Uint8Array(12)), { instanceOf: RangeError });
});
