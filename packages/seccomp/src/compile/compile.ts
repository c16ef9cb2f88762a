// Policy → classic BPF. The shape of every filter we make:
//
//   A = arch; one jeq per ABI we compile for; anything else is killed.
//   A = nr; a binary search over the ABI's intervals (jge on an interval's
//     start): about log2(n) tests to a verdict instead of one jeq per listed
//     call. The x32 bit and numbers newer than our tables are intervals
//     too, so they cost nothing extra.
//   A plain verdict is a jump straight to a shared `ret`. A call with
//   argument rules jumps to its own block, which only then loads the
//   argument words it compares.
//
// So a call whose verdict depends only on arch and number never loads
// anything else — the kernel's action cache (seccomp_cache_prepare, Linux
// 5.11) can then decide it once and skip the filter for good.
import { ValidationError } from '@nsk/syscall';
import type { Label, Target } from '../bpf/asm.ts';
import { checkProgram } from '../bpf/check.ts';
import { JEQ, JGE, JMP, JA, RET, cls, op, type Insn } from '../bpf/opcodes.ts';
import { actionValue } from '../action.ts';
import { AUDIT_ARCH, type Arch } from '../arch.ts';
import { OFF_ARCH, OFF_NR, argOffset } from '../seccomp-data.ts';
import type { Policy, Rule } from '../policy.ts';
import { emitCondition } from './args.ts';
import { Emitter } from './emitter.ts';
import { shape, type Shape } from './tree.ts';
import { intervals, type Checked, type Interval } from './verdicts.ts';

/** What a foreign ABI gets: the whole process dies (seccomp(2) SECCOMP_RET_KILL_PROCESS). */
export const FOREIGN = actionValue({ kind: 'kill-process', data: 0 });

const U64 = (1n << 64n) - 1n;

class Section {
  readonly e: Emitter;
  readonly #rets = new Map<number, Label>();
  readonly #blocks: Array<{ label: Label; verdict: Checked }> = [];
  /** `ret`s emitted elsewhere (the foreign-ABI kill at the very end). */
  readonly #shared: Set<Label>;

  constructor(e: Emitter, shared: ReadonlyMap<number, Label> = new Map()) {
    this.e = e;
    for (const [v, l] of shared) this.#rets.set(v, l);
    this.#shared = new Set(shared.values());
  }

  /** The shared `ret value` of this section. */
  retLabel(value: number): Label {
    let l = this.#rets.get(value);
    if (!l) this.#rets.set(value, (l = this.e.label(`ret_${value.toString(16)}`)));
    return l;
  }

  leaf(iv: Interval): Label {
    if (iv.verdict.kind === 'ret') return this.retLabel(iv.verdict.value);
    const label = this.e.label(`nr_${iv.verdict.nr}`);
    this.#blocks.push({ label, verdict: iv.verdict });
    return label;
  }

  /** Preorder: the test, the left subtree after it (its fall-through), then the right one. */
  tree(ivs: readonly Interval[], s: Shape): void {
    if ('leaf' in s) {
      this.e.goto(this.leaf(ivs[s.leaf]!));
      return;
    }
    const { left, right } = s;
    const start = ivs[s.split]!.start;
    if ('leaf' in left && !('leaf' in right)) {
      // Only the right subtree has code: let it be the fall-through.
      this.e.jump(JGE, start, 'next', this.leaf(ivs[left.leaf]!));
      this.tree(ivs, right);
      return;
    }
    const rightTarget: Target = 'leaf' in right ? this.leaf(ivs[right.leaf]!) : this.e.label();
    const leftTarget: Target = 'leaf' in left ? this.leaf(ivs[left.leaf]!) : 'next';
    this.e.jump(JGE, start, rightTarget, leftTarget);
    if (!('leaf' in left)) this.tree(ivs, left);
    if (!('leaf' in right)) {
      this.e.bind(rightTarget as Label);
      this.tree(ivs, right);
    }
  }

  blocks(): void {
    for (const { label, verdict } of this.#blocks) {
      this.e.bind(label);
      emitRules(this, verdict);
    }
  }

  rets(): void {
    for (const [value, label] of this.#rets) if (!this.#shared.has(label)) this.e.bind(label).ret(value);
  }
}

interface SwitchKey {
  index: number;
  mask: bigint;
}

/** A rule that tests one argument for (masked) equality can join a switch on it. */
function switchKey(r: Rule): SwitchKey | null {
  if (r.conditions.length !== 1) return null;
  const c = r.conditions[0]!;
  if (c.op === 'eq') return { index: c.index, mask: U64 };
  if (c.op === 'masked-eq') return { index: c.index, mask: c.value };
  return null;
}
const sameKey = (a: SwitchKey | null, b: SwitchKey | null) => a !== null && b !== null && a.index === b.index && a.mask === b.mask;

function emitRules(s: Section, v: Checked): void {
  const { e } = s;
  const rules = v.rules;
  for (let i = 0; i < rules.length; ) {
    const key = switchKey(rules[i]!);
    let j = i + 1;
    while (j < rules.length && sameKey(key, switchKey(rules[j]!))) j++;
    if (j - i >= 2) {
      emitSwitch(s, key!, rules.slice(i, j));
      i = j;
      continue;
    }
    const r = rules[i]!;
    const next = e.label();
    r.conditions.forEach((c, k) => emitCondition(e, c, k === r.conditions.length - 1 ? s.retLabel(actionValue(r.action)) : 'next', next));
    e.bind(next);
    i++;
  }
  e.ret(v.fallback);
}

/**
 * personality(0) or (8) or (0x20000) …, or (mode & S_IFMT) == S_IFREG or
 * S_IFIFO …: load (and mask) each half once, then one jeq per value. The
 * high half is tested once per distinct high value. Equality tests exclude
 * each other, so order only matters for repeated values (the first wins).
 */
function emitSwitch(s: Section, key: SwitchKey, rules: readonly Rule[]): void {
  const { e } = s;
  const mh = Number(key.mask >> 32n);
  const ml = Number(key.mask & 0xffffffffn);
  const groups = new Map<number, Array<{ lo: number; ret: number }>>();
  for (const r of rules) {
    const c = r.conditions[0]!;
    const datum = c.op === 'eq' ? c.value : c.valueTwo;
    // A datum bit outside the mask can never match.
    if ((datum & key.mask) !== datum) continue;
    const dh = Number(datum >> 32n);
    const dl = Number(datum & 0xffffffffn);
    let g = groups.get(dh);
    if (!g) groups.set(dh, (g = []));
    if (!g.some((x) => x.lo === dl)) g.push({ lo: dl, ret: actionValue(r.action) });
  }
  const after = e.label();
  const entries = [...groups];
  entries.forEach(([dh, cases], gi) => {
    const last = gi === entries.length - 1;
    const nextGroup = last ? after : e.label();
    if (mh !== 0) {
      e.load(argOffset(key.index, 'hi'));
      if (mh !== 0xffffffff) e.and(mh);
      e.jump(JEQ, dh, 'next', nextGroup);
    }
    if (ml === 0) e.goto(s.retLabel(cases[0]!.ret)); // every low half matches 0
    else {
      e.load(argOffset(key.index, 'lo'));
      if (ml !== 0xffffffff) e.and(ml);
      for (const c of cases) e.jump(JEQ, c.lo, s.retLabel(c.ret), 'next');
    }
    // No other high value can match now.
    if (!last) {
      e.goto(after);
      e.bind(nextGroup);
    }
  });
  e.bind(after);
}

/** The most instructions a call can run in a block, its final ret included. */
function blockCost(v: Checked): number {
  const e = new Emitter();
  const s = new Section(e);
  emitRules(s, v);
  s.rets();
  return longestPath(e.asm.assemble());
}

/** Jumps go forward, so the longest run from each instruction is one backward pass. */
export function longestPath(p: readonly Insn[]): number {
  const len = new Array<number>(p.length).fill(0);
  for (let i = p.length - 1; i >= 0; i--) {
    const { code, k, jt, jf } = p[i]!;
    if (cls(code) === RET) len[i] = 1;
    else if (cls(code) !== JMP) len[i] = 1 + len[i + 1]!;
    else if (op(code) === JA) len[i] = 1 + len[i + 1 + k]!;
    else len[i] = 1 + Math.max(len[i + 1 + jt]!, len[i + 1 + jf]!);
  }
  return len[0]!;
}

/** Compiles a resolved policy into a checked classic-BPF program. */
export function compilePolicy(policy: Policy): Insn[] {
  if (policy.arches.length === 0) throw new ValidationError('architectures', 'no architecture to compile for');
  const e = new Emitter();
  const foreign = e.label('foreign');
  e.load(OFF_ARCH);
  policy.arches.forEach((arch: Arch, i) => {
    const other = i === policy.arches.length - 1 ? foreign : e.label(`not_${arch}`);
    e.jump(JEQ, AUDIT_ARCH[arch], 'next', other);
    const s = new Section(e, new Map([[FOREIGN, foreign]]));
    const ivs = intervals(policy, arch, FOREIGN);
    e.load(OFF_NR);
    s.tree(ivs, shape(ivs.map((iv) => (iv.verdict.kind === 'ret' ? 1 : blockCost(iv.verdict)))));
    s.blocks();
    s.rets();
    if (other !== foreign) e.bind(other);
  });
  e.bind(foreign).ret(FOREIGN);
  const program = e.asm.assemble();
  checkProgram(program);
  return program;
}
