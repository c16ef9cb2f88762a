// The compiled program, checked with our own emulator: the arch comes
// first, foreign ABIs die, the search is a tree, verdicts that need no
// argument read only arch and nr (the kernel's action cache can take
// them), and on random profiles and calls the program means what the
// profile says.
import test from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import {
  AUDIT_ARCH, FOREIGN, OFF_ARCH, OFF_NR, OPERATORS, RET, X32_SYSCALL_BIT, actionOf, cachedAllow, compile, defaultProfile,
  emulate, longestPath, syscallNumber, syscallTable, type Arch, type Filter, type SeccompProfile,
} from '../src/index.ts';
import { expected, prng } from './helpers.ts';

const before = hostState();
test.after.always('nothing is left behind', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.fds, []);
  t.deepEqual(left.children, []);
});

const dflt = compile(defaultProfile(), { arch: 'x86_64' });

test('the program checks the architecture before anything else, and kills a foreign one', (t) => {
  t.deepEqual(dflt.program[0], { code: 0x20, jt: 0, jf: 0, k: OFF_ARCH });
  t.is(dflt.program[1]!.code, 0x15);
  t.is(dflt.program[1]!.k, AUDIT_ARCH.x86_64);
  t.deepEqual(dflt.program[2], { code: 0x20, jt: 0, jf: 0, k: OFF_NR });
  for (const arch of [AUDIT_ARCH.i386, AUDIT_ARCH.aarch64, AUDIT_ARCH.arm, 0]) {
    t.is(emulate(dflt.program, { nr: syscallNumber('getpid', 'i386')!, arch }).ret, FOREIGN);
  }
});

test('x32 calls (nr | __X32_SYSCALL_BIT) are killed; nr -1 and numbers newer than our tables get ENOSYS', (t) => {
  t.is(dflt.run(X32_SYSCALL_BIT | 39).ret, RET.KILL_PROCESS);
  t.is(dflt.run(0xfffffffe).ret, RET.KILL_PROCESS);
  t.is(dflt.run(0xffffffff).ret, RET.ERRNO | 38);
  t.is(dflt.run(451).ret, RET.ERRNO | 38, 'cachestat (Linux 6.5) is newer than linux-libc-dev 6.1');
  t.is(dflt.run(400).ret, RET.ERRNO | 1, 'a hole in the table is just not allowed');
});

test('a call whose verdict needs no argument loads only arch and nr, and allowed ones are cacheable', (t) => {
  for (const arch of ['x86_64', 'aarch64'] as const) {
    const f = compile(defaultProfile(), { arch });
    const withArgs = new Set(f.policy.rules.filter((r) => r.conditions.length).flatMap((r) => syscallNumber(r.name, arch) ?? []));
    let cached = 0;
    for (const [name, nr] of Object.entries(syscallTable(arch))) {
      if (withArgs.has(nr)) continue;
      const e = f.run(nr, [0xdeadbeefn, 1n, 2n, 3n, 4n, 5n]);
      t.deepEqual([...new Set(e.loads)].sort(), [OFF_NR, OFF_ARCH].sort(), `${arch} ${name}`);
      // A verdict that ignores arguments is the same for any of them.
      t.is(f.run(nr, [0n, 0xffffffffffffffffn]).ret, e.ret, `${arch} ${name}`);
      if (actionOf(e.ret).kind === 'allow') {
        t.true(cachedAllow(f.program, AUDIT_ARCH[arch], nr), `${arch} ${name} is not cacheable`);
        cached++;
      }
    }
    t.true(cached > 200, `${arch}: ${cached} calls the kernel can cache`);
    for (const nr of withArgs) t.false(cachedAllow(f.program, AUDIT_ARCH[arch], nr), 'argument rules are never cached');
  }
});

test('the search is a balanced tree: a few dozen instructions at most, where a chain would run hundreds', (t) => {
  // Every other call allowed: the worst case for merging, 181 intervals.
  const names = Object.entries(syscallTable('x86_64')).filter(([, nr]) => nr % 2 === 0 && nr < 335).map(([n]) => n);
  const f = compile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] }, { arch: 'x86_64' });
  const deepest = Math.max(...Object.values(syscallTable('x86_64')).map((nr) => f.run(nr).executed));
  // ld arch, jeq, ld nr, ⌈log2(intervals)⌉ tests, ret.
  t.true(deepest <= 3 + Math.ceil(Math.log2(names.length * 2 + 4)) + 1, `deepest path ${deepest}`);
  t.true(f.length < names.length * 2 + 20, `length ${f.length}`);
  t.is(longestPath(f.program), deepest);
});

test('the default profile compiles short and shallow', (t) => {
  t.true(dflt.length < 140, `length ${dflt.length}`);
  t.true(longestPath(dflt.program) <= 16, `longest path ${longestPath(dflt.program)}`);
});

test('a two-ABI profile has a section per ABI, each with its own numbers', (t) => {
  const f = compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }, { arch: 'x86_64' });
  t.deepEqual(f.policy.arches, ['x86_64', 'aarch64']);
  t.is(f.verdict('mkdir').kind, 'errno');
  t.is(f.verdict('mkdirat', [], 'aarch64').kind, 'errno');
  t.is(f.run(83, [], 'aarch64').ret, RET.ALLOW, '83 is fdatasync on aarch64');
  t.is(f.verdict('fdatasync', [], 'aarch64').kind, 'allow');
  t.is(emulate(f.program, { nr: 1, arch: AUDIT_ARCH.i386 }).ret, FOREIGN);
});

// Random profiles against the plain reading of them (helpers.ts expected()).
const OPS = Object.keys(OPERATORS);
const EDGES = [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x100000001n, 0xffffffff00000000n, 0xfffffffffffffffen, 0xffffffffffffffffn];

function randomProfile(rnd: () => number, arch: Arch): { profile: SeccompProfile; nrs: number[]; values: bigint[] } {
  const names = Object.keys(syscallTable(arch));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const value = () => (rnd() < 0.5 ? pick(EDGES) : BigInt(Math.floor(rnd() * 2 ** 32)) << BigInt(pick([0, 0, 16, 32])));
  const actions = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_KILL_THREAD'];
  const chosen = Array.from({ length: 12 }, () => pick(names));
  const values: bigint[] = [...EDGES];
  const syscalls = Array.from({ length: 25 }, () => {
    const action = pick(actions);
    const args = Array.from({ length: Math.floor(rnd() * 3) }, () => {
      const v = value();
      const two = v & value();
      values.push(v, two, v + 1n, v - 1n);
      const op = pick(OPS);
      return { index: Math.floor(rnd() * 6), value: v, op, ...(op === 'SCMP_CMP_MASKED_EQ' ? { valueTwo: two } : {}) };
    });
    return { names: [pick(chosen), ...(rnd() < 0.2 ? [pick(names)] : [])], action, ...(action === 'SCMP_ACT_ERRNO' ? { errnoRet: Math.floor(rnd() * 200) } : {}), args };
  });
  // Drop later unconditional rules that contradict an earlier one: the
  // compiler ignores them (first wins, as libseccomp), the model here does not.
  const seen = new Map<string, string>();
  const kept = syscalls.filter((s) => {
    if (s.args.length) return true;
    const key = `${s.action}/${(s as { errnoRet?: number }).errnoRet ?? ''}`;
    if (s.names.some((n) => seen.has(n) && seen.get(n) !== key)) return false;
    for (const n of s.names) seen.set(n, key);
    return true;
  });
  const nrs = chosen.map((n) => syscallNumber(n, arch)!);
  return { profile: { defaultAction: pick(actions), syscalls: kept } as SeccompProfile, nrs, values: values.map((v) => BigInt.asUintN(64, v)) };
}

for (const arch of ['x86_64', 'aarch64'] as const) {
  test(`${arch}: on 200 random profiles the program returns what the profile says, for edge and random arguments`, (t) => {
    const rnd = prng(arch === 'x86_64' ? 1 : 2);
    let checks = 0;
    for (let n = 0; n < 200; n++) {
      const { profile, nrs, values } = randomProfile(rnd, arch);
      let f: Filter;
      try {
        f = compile(profile, { arch });
      } catch (err) {
        t.fail(`profile ${n}: ${(err as Error).message}\n${JSON.stringify(profile, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
        return;
      }
      const pickV = () => values[Math.floor(rnd() * values.length)]!;
      for (const nr of [...nrs, 0, 1, 450, 451, 0x3fffffff, 0x40000001, 0x80000000, 0xfffffffe, 0xffffffff]) {
        for (let k = 0; k < 12; k++) {
          const args = Array.from({ length: 6 }, pickV);
          const want = expected(f.policy, arch, nr, args);
          const got = f.run(nr, args, arch).ret;
          if (got !== want) {
            t.fail(`profile ${n}, nr ${nr}, args ${args.map((a) => `0x${a.toString(16)}`).join(',')}: got 0x${got.toString(16)}, want 0x${want.toString(16)}\n${f.explain()}`);
            return;
          }
          checks++;
        }
      }
    }
    t.true(checks > 40000);
  });
}
