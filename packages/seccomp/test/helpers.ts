// Shared by the tests: the `sc` program (fixtures/sc.c, built static once
// per test process), running it under a filter, and the meaning of a
// policy computed the plain way, to hold the compiled program against.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from '@nsk/testkit';
import type { Feature, SpawnOptions } from '@nsk/clone';
import {
  actionValue, aboveAction, holds, maxSyscall, syscallNumber, seccomp, X32_SYSCALL_BIT, FOREIGN,
  type Arch, type Filter, type Policy, type SeccompFeatureOptions, type SeccompProfile,
} from '../src/index.ts';

let built: string | undefined;

/** The path of a static `sc` binary, built with gcc on first use. */
export function sc(): string {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'nsk-seccomp-sc-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'sc');
  execFileSync('gcc', ['-static', '-O2', '-pthread', '-o', out, fileURLToPath(new URL('fixtures/sc.c', import.meta.url))], { stdio: 'inherit' });
  return (built = out);
}

export interface ScCall {
  ret: number;
  errno: number;
}

export interface ScResult extends RunResult {
  calls: ScCall[];
}

/** One call for sc's command line: `nr,a0,a1,…` with exact 64-bit values. */
export function call(nr: number, ...args: Array<number | bigint>): string {
  return [nr, ...args.map((a) => `0x${BigInt.asUintN(64, BigInt(a)).toString(16)}`)].join(',');
}

/** Runs sc with `argv` under `profile`; parses its "<ret> <errno>" lines. */
export async function underFilter(profile: Filter | SeccompProfile, argv: readonly string[], o: SeccompFeatureOptions & { extra?: Partial<SpawnOptions>; features?: Feature[] } = {}, during?: Parameters<typeof run>[1]): Promise<ScResult> {
  const r = await run({ argv: [sc(), ...argv], features: [...(o.features ?? []), seccomp(profile, o)], ...o.extra }, during);
  const calls = r.stdout.split('\n').filter((l) => /^-?\d+ \d+$/.test(l)).map((l) => {
    const [ret, errno] = l.split(' ').map(Number);
    return { ret: ret!, errno: errno! };
  });
  return { ...r, calls };
}

/**
 * What `policy` means for one call, computed directly from its rules: the
 * first rule with arguments that all hold, else the rule without
 * arguments, else the default; numbers past our tables, the x32 range.
 */
export function expected(policy: Policy, arch: Arch, nr: number, args: ReadonlyArray<bigint> = []): number {
  nr >>>= 0;
  // x32 sets __X32_SYSCALL_BIT; no real call lies above it on x86_64, so all
  // of [0x40000000, 0xfffffffe] is refused; -1 is a skipped call.
  if (arch === 'x86_64' && nr >= X32_SYSCALL_BIT && nr !== 0xffffffff) return FOREIGN;
  if (nr > maxSyscall(arch)) return aboveAction(policy.defaultAction);
  const rules = policy.rules.filter((r) => syscallNumber(r.name, arch) === nr);
  for (const r of rules) {
    if (r.conditions.length && r.conditions.every((c) => holds(c, args[c.index] ?? 0n))) return actionValue(r.action);
  }
  const plain = rules.find((r) => r.conditions.length === 0);
  return actionValue(plain ? plain.action : policy.defaultAction);
}

/** A small seeded PRNG (mulberry32), so a failing case can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
