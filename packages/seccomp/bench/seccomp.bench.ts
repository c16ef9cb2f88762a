// Our compiler against libseccomp, on the same profile (profiles/default.json,
// resolved for this machine with Docker's default capabilities), in one run:
//
//   BENCH seccomp-insns     program length, in instructions.
//   BENCH seccomp-depth     instructions run for the worst-case call, counted
//                           with our BPF emulator: every number of this ABI's
//                           table (and the x32 bit, -1, numbers past the
//                           table), each with the argument values the
//                           profile's conditions name (and ±1, 0, ~0).
//   BENCH seccomp-overhead  ns the filter adds to a call it must run for
//                           (the kernel's action cache cannot skip it):
//                           personality(0xffffffff), allowed by an argument
//                           rule, and a call the profile does not list. Per
//                           call: the time under the filter minus the time
//                           with no filter, each the best of 5 rounds × 9
//                           processes, interleaved; the mean of the two calls.
//                           (The '#' line gives the times themselves.)
//
// libseccomp is Debian's python3-seccomp (2.5.x), run with /usr/bin/python3
// and installed with apt-get when missing. It makes two programs: its
// default, a linear chain (short but deep), and SCMP_FLTATR_CTL_OPTIMIZE=2,
// a binary tree (shallow but longer). Each figure compares us with the
// better of the two for that figure; ratio = ours / libseccomp. The aim is
// a ratio ≤ 1 on all three. Run as root:
//   node --conditions=nsk-source bench/seccomp.bench.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AUDIT_ARCH, X32_SYSCALL_BIT, compile, decodeProgram, defaultProfile, emulate, encodeProgram, maxSyscall, syscallName,
  syscallNumber, syscallTable, type Insn, type Policy,
} from '../src/index.ts';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const PY = '/usr/bin/python3';

// Tools: install only what is missing, from Debian.
const ok = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const missing: string[] = [];
if (!ok(PY, ['-c', 'import seccomp'])) missing.push('python3-seccomp');
if (!ok('sh', ['-c', 'command -v gcc'])) missing.push('gcc', 'libc6-dev');
if (missing.length) {
  execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')}`], { stdio: 'inherit' });
}

const dir = mkdtempSync(join(tmpdir(), 'nsk-seccomp-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// The same profile, compiled by us and by libseccomp.
const ours = compile(defaultProfile());
const arch = ours.arch;
const policy = ours.policy;
const json = JSON.stringify({
  defaultAction: policy.defaultAction,
  arches: policy.arches,
  rules: policy.rules.map((r) => ({ name: r.name, action: r.action, conditions: r.conditions.map((c) => ({ index: c.index, op: c.op, value: String(c.value), valueTwo: String(c.valueTwo) })) })),
});
writeFileSync(join(dir, 'policy.json'), json);
execFileSync(PY, [here('libseccomp.py'), join(dir, 'policy.json'), join(dir, 'linear.bpf'), join(dir, 'tree.bpf')], { stdio: 'inherit' });
const linear = decodeProgram(readFileSync(join(dir, 'linear.bpf')));
const tree = decodeProgram(readFileSync(join(dir, 'tree.bpf')));
writeFileSync(join(dir, 'ours.bpf'), encodeProgram(ours.program));

// --- depth ---
function argumentValues(p: Policy): bigint[] {
  const vs = new Set<bigint>([0n, 0xffffffffn, 0xffffffffffffffffn]);
  for (const r of p.rules) {
    for (const c of r.conditions) for (const v of [c.value, c.valueTwo, c.value + 1n, c.value - 1n, c.valueTwo | ~c.value]) vs.add(BigInt.asUintN(64, v));
  }
  return [...vs];
}
const VALUES = argumentValues(policy);
const NUMBERS = [...new Set([...Object.values(syscallTable(arch)), maxSyscall(arch) + 1, 1000, ...(arch === 'x86_64' ? [X32_SYSCALL_BIT | 1] : []), 0xffffffff])];

function worst(program: readonly Insn[]): { executed: number; nr: number } {
  let best = { executed: 0, nr: -1 };
  for (const nr of NUMBERS) {
    for (const v of VALUES) {
      // Every argument the same value: each condition sees each value.
      const e = emulate(program, { nr, arch: AUDIT_ARCH[arch], args: [v, v, v, v, v, v] });
      if (e.executed > best.executed) best = { executed: e.executed, nr };
    }
  }
  return best;
}
const depth = { ours: worst(ours.program), linear: worst(linear), tree: worst(tree) };

// --- overhead ---
const overhead = join(dir, 'overhead');
execFileSync('gcc', ['-O2', '-o', overhead, here('overhead.c')], { stdio: 'inherit' });
const personality = `${syscallNumber('personality', arch)},0xffffffff`;
const listed = new Set(policy.rules.map((r) => r.name));
const unlistedName = ['getpmsg', 'putpmsg', 'tuxcall', 'security', 'afs_syscall', 'nfsservctl', 'vserver'].find((n) => syscallNumber(n, arch) !== undefined && !listed.has(n))!;
const unlisted = `${syscallNumber(unlistedName, arch)},0`;
const ITER = 300_000;
function measure(file: string): number[] {
  return execFileSync(overhead, [file, String(ITER), personality, unlisted], { encoding: 'utf8' }).trim().split('\n').map(Number);
}
const programs = { ours: join(dir, 'ours.bpf'), linear: join(dir, 'linear.bpf'), tree: join(dir, 'tree.bpf'), none: '-' } as const;
const best: Record<keyof typeof programs, number[]> = { ours: [Infinity, Infinity], linear: [Infinity, Infinity], tree: [Infinity, Infinity], none: [Infinity, Infinity] };
for (let round = 0; round < 9; round++) {
  // Interleaved, so a disturbance hits all alike.
  for (const k of Object.keys(programs) as Array<keyof typeof programs>) {
    const got = measure(programs[k]);
    best[k] = best[k].map((b, i) => Math.min(b, got[i]!));
  }
}
const added = (xs: number[]) => ((xs[0]! - best.none[0]!) + (xs[1]! - best.none[1]!)) / 2;

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
function line(name: string, o: number, lib: number): void {
  console.log(`BENCH ${name} ours=${fmt(o)} libseccomp=${fmt(lib)} ratio=${(o / lib).toFixed(2)}`);
}
console.log(`# profile: profiles/default.json on ${arch}, ${policy.rules.length} rules; libseccomp linear and tree (CTL_OPTIMIZE=2)`);
console.log(`# insns: ours ${ours.length}, linear ${linear.length}, tree ${tree.length}`);
console.log(`# depth: ours ${depth.ours.executed} (${syscallName(depth.ours.nr, arch) ?? depth.ours.nr}), linear ${depth.linear.executed} (${syscallName(depth.linear.nr, arch) ?? depth.linear.nr}), tree ${depth.tree.executed} (${syscallName(depth.tree.nr, arch) ?? depth.tree.nr})`);
console.log(`# ns per call [personality(0xffffffff), ${unlistedName}]: ours ${best.ours.map(fmt).join(', ')}; linear ${best.linear.map(fmt).join(', ')}; tree ${best.tree.map(fmt).join(', ')}; no filter ${best.none.map(fmt).join(', ')}`);
line('seccomp-insns', ours.length, Math.min(linear.length, tree.length));
line('seccomp-depth', depth.ours.executed, Math.min(depth.linear.executed, depth.tree.executed));
line('seccomp-overhead', added(best.ours), Math.min(added(best.linear), added(best.tree)));
