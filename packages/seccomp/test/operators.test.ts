// Each argument operator, judged by the kernel running our program on a
// real process, with 64-bit values chosen where a comparison of one 32-bit
// half alone would answer wrong. Each call is getppid(a0…a5) — the kernel
// ignores the arguments, the filter sees them all.
import test from 'ava';
import { hostArch } from '@nsk/syscall';
import { hostState, leftSince } from '@nsk/testkit';
import { compile, holds, syscallNumber, type Condition, type SeccompProfile } from '../src/index.ts';
import { call, sc, underFilter } from './helpers.ts';

const before = hostState();
test.before(() => {
  sc();
});
test.after.always('nothing is left behind', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.fds, []);
  t.deepEqual(left.children, []);
});

const GETPPID = syscallNumber('getppid', hostArch)!;
const ERR = 42;

// Around v = 0x1_80000000: equal high halves, lower/higher high halves, and
// low halves that would mislead a comparison that forgot the high one.
const V = 0x180000000n;
const AROUND = [0n, 0xffffffffn, 0x17fffffffn, V, 0x180000001n, 0x1ffffffffn, 0x200000000n, 0x280000000n, 0x100000000n, 0xffffffffffffffffn, 0x80000000n];

const CASES: Array<{ op: string; index: number; value: bigint; valueTwo?: bigint; args: bigint[] }> = [
  { op: 'SCMP_CMP_EQ', index: 0, value: V, args: AROUND },
  { op: 'SCMP_CMP_NE', index: 1, value: V, args: AROUND },
  { op: 'SCMP_CMP_LT', index: 2, value: V, args: AROUND },
  { op: 'SCMP_CMP_LE', index: 3, value: V, args: AROUND },
  { op: 'SCMP_CMP_GT', index: 4, value: V, args: AROUND },
  { op: 'SCMP_CMP_GE', index: 5, value: V, args: AROUND },
  {
    op: 'SCMP_CMP_MASKED_EQ', index: 0, value: 0xff0000000000ff00n, valueTwo: 0x1200000000003400n,
    args: [0x1200000000003400n, 0x12abcdefff3456ffn, 0x1300000000003400n, 0x1200000000003500n, 0x0000000000003400n, 0x1200000000000000n, 0n],
  },
];

for (const c of CASES) {
  test(`${c.op} on args[${c.index}] compares all 64 bits`, async (t) => {
    const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: ERR, args: [{ index: c.index, value: c.value, op: c.op, ...(c.valueTwo !== undefined ? { valueTwo: c.valueTwo } : {}) }] }] } as SeccompProfile;
    const f = compile(profile);
    const cond: Condition = f.policy.rules[0]!.conditions[0]!;
    const argv = c.args.map((a) => {
      const args = [0n, 0n, 0n, 0n, 0n, 0n];
      args[c.index] = a;
      return call(GETPPID, ...args);
    });
    const r = await underFilter(f, argv);
    t.is(r.code, 0);
    t.is(r.calls.length, c.args.length);
    const matched = c.args.map((a) => holds(cond, a));
    t.true(matched.includes(true) && matched.includes(false), 'the values exercise both outcomes');
    c.args.forEach((a, i) => {
      const want = matched[i] ? { ret: -1, errno: ERR } : { ret: process.pid, errno: 0 };
      t.deepEqual(r.calls[i], want, `${c.op} 0x${c.value.toString(16)} with 0x${a.toString(16)}`);
      // The emulator agrees with the kernel.
      const args = [0n, 0n, 0n, 0n, 0n, 0n];
      args[c.index] = a;
      t.is(f.verdict('getppid', args).kind, matched[i] ? 'errno' : 'allow');
    });
  });
}

test('several conditions in one rule must all hold; rules are tried in order', async (t) => {
  const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [
    { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 11, args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 0x100000000n, op: 'SCMP_CMP_GE' }] },
    { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 12, args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
  ] } as SeccompProfile;
  const r = await underFilter(profile, [call(GETPPID, 1, 0x100000000n), call(GETPPID, 1, 0xffffffff), call(GETPPID, 2, 0x100000000n)]);
  t.deepEqual(r.calls, [{ ret: -1, errno: 11 }, { ret: -1, errno: 12 }, { ret: process.pid, errno: 0 }]);
});
