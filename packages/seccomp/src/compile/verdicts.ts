// What each system call number gets, for one ABI, as intervals over the
// whole 32-bit number space. Runs of numbers with the same plain verdict
// merge into one interval, so an allow-list of 300 calls is a few dozen
// intervals — and the search over them is what the filter runs.
import { ERRNO } from '@nsk/syscall';
import { actionValue, lets, type Action } from '../action.ts';
import { X32_SYSCALL_BIT, maxSyscall, syscallNumber, type Arch } from '../arch.ts';
import type { Policy, Rule } from '../policy.ts';

/** A verdict that needs no argument: just a return value. */
export interface Plain {
  readonly kind: 'ret';
  readonly value: number;
}

/** A call with argument rules: tried in order, then `fallback`. */
export interface Checked {
  readonly kind: 'rules';
  readonly nr: number;
  readonly rules: readonly Rule[];
  readonly fallback: number;
}

export type Verdict = Plain | Checked;

export interface Interval {
  /** The first number of the interval; it runs to the next interval's start. */
  readonly start: number;
  readonly verdict: Verdict;
}

const ret = (value: number): Plain => ({ kind: 'ret', value });
const same = (a: Verdict, b: Verdict) => a.kind === 'ret' && b.kind === 'ret' && a.value === b.value;

/** The verdict of every number `policy` names on `arch`. */
export function verdicts(policy: Policy, arch: Arch): Map<number, Verdict> {
  const byNr = new Map<number, Rule[]>();
  for (const rule of policy.rules) {
    const nr = syscallNumber(rule.name, arch);
    if (nr === undefined) continue; // a call this ABI does not have (open on aarch64)
    let list = byNr.get(nr);
    if (!list) byNr.set(nr, (list = []));
    list.push(rule);
  }
  const out = new Map<number, Verdict>();
  const dflt = actionValue(policy.defaultAction);
  for (const [nr, rules] of byNr) {
    // Rules with arguments are tried first, in profile order; the rule
    // without arguments (if any) is what is left, else the default.
    const plain = rules.find((r) => r.conditions.length === 0);
    const fallback = plain ? actionValue(plain.action) : dflt;
    const checked = rules.filter((r) => r.conditions.length > 0);
    // A trailing rule that leads to the fallback anyway changes nothing.
    while (checked.length && actionValue(checked.at(-1)!.action) === fallback) checked.pop();
    out.set(nr, checked.length ? { kind: 'rules', nr, rules: checked, fallback } : ret(fallback));
  }
  return out;
}

/**
 * Numbers above the newest call our headers know: a newer kernel may have
 * them. Unless the default lets calls through, answer ENOSYS, as runc does:
 * programs then fall back to an older call instead of failing with EPERM.
 */
export function aboveAction(defaultAction: Action): number {
  return lets(defaultAction) ? actionValue(defaultAction) : actionValue({ kind: 'errno', data: ERRNO.ENOSYS! });
}

/** [0, 2^32) cut into intervals, each with its verdict; neighbours differ. */
export function intervals(policy: Policy, arch: Arch, foreign: number): Interval[] {
  const v = verdicts(policy, arch);
  const dflt = ret(actionValue(policy.defaultAction));
  const above = ret(aboveAction(policy.defaultAction));
  const max = maxSyscall(arch);
  const raw: Interval[] = [];
  for (let nr = 0; nr <= max; nr++) raw.push({ start: nr, verdict: v.get(nr) ?? dflt });
  raw.push({ start: max + 1, verdict: above });
  if (arch === 'x86_64') {
    // x32 calls set __X32_SYSCALL_BIT: a foreign ABI on the same AUDIT_ARCH.
    // 0xffffffff (-1) is no x32 call: a tracer skipping a call sets it.
    raw.push({ start: X32_SYSCALL_BIT, verdict: ret(foreign) }, { start: 0xffffffff, verdict: above });
  }
  const out: Interval[] = [];
  for (const iv of raw) if (!out.length || !same(out.at(-1)!.verdict, iv.verdict)) out.push(iv);
  return out;
}
