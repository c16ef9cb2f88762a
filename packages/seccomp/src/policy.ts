// A profile once checked and resolved for one machine: includes/excludes
// applied, names split into one rule each, numbers made exact. The compiler
// reads only this.
import type { Arch } from '@nsk/syscall';
import type { Action } from './action.ts';

/** libseccomp's comparison operators, as profiles name them (SCMP_CMP_*). */
export const OPERATORS = {
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_MASKED_EQ: 'masked-eq',
} as const;
export type Operator = (typeof OPERATORS)[keyof typeof OPERATORS];

/** `args[index] <op> value`, unsigned 64-bit; masked-eq is `(args[index] & value) == valueTwo`. */
export interface Condition {
  readonly index: number;
  readonly op: Operator;
  readonly value: bigint;
  readonly valueTwo: bigint;
}

export interface Rule {
  readonly name: string;
  readonly action: Action;
  /** All must hold (an empty list always holds). */
  readonly conditions: readonly Condition[];
  /** Where the rule came from: `syscalls[3]`. */
  readonly path: string;
}

export interface Policy {
  readonly defaultAction: Action;
  /** The ABIs the filter has a section for, the machine's first. */
  readonly arches: readonly Arch[];
  /** SECCOMP_FILTER_FLAG_* for seccomp(2). */
  readonly flags: number;
  readonly rules: readonly Rule[];
}

/** What the condition computes, for one 64-bit argument value. */
export function holds(c: Condition, arg: bigint): boolean {
  const a = BigInt.asUintN(64, arg);
  switch (c.op) {
    case 'eq': return a === c.value;
    case 'ne': return a !== c.value;
    case 'lt': return a < c.value;
    case 'le': return a <= c.value;
    case 'gt': return a > c.value;
    case 'ge': return a >= c.value;
    case 'masked-eq': return (a & c.value) === c.valueTwo;
  }
}
