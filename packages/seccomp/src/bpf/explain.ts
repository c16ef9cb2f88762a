// A filter as a person reads it, in the layout of seccomp-tools' and
// libseccomp's disassemblers: line, raw fields, then what it means, with
// syscall numbers named for the arch the code is checking at that point.
import { AUDIT_ARCH, X32_SYSCALL_BIT, syscallName, type Abi } from '../arch.ts';
import { showAction } from '../action.ts';
import { dataWordName } from '../seccomp-data.ts';
import {
  ABS, ALU, ALU_NAMES, IMM, JA, JEQ, JGE, JGT, JMP, JSET, LD, LDX, LEN, MEM, MISC, NEG, RET, RET_A, ST, STX, W, X,
  cls, op, src, type Insn,
} from './opcodes.ts';

interface State {
  /** What A holds: 'nr', 'arch', 'args[0].lo', or null (computed). */
  a: string | null;
  /** The ABI the code has established, or null. */
  abi: Abi | null;
}

const ARCH_NAMES = new Map<number, string>([
  [AUDIT_ARCH.x86_64, 'ARCH_X86_64'], [AUDIT_ARCH.aarch64, 'ARCH_AARCH64'], [AUDIT_ARCH.i386, 'ARCH_I386'], [AUDIT_ARCH.arm, 'ARCH_ARM'],
]);
const ARCH_ABI = new Map<number, Abi>([[AUDIT_ARCH.x86_64, 'x86_64'], [AUDIT_ARCH.aarch64, 'aarch64'], [AUDIT_ARCH.i386, 'i386']]);

const hex = (n: number, w = 8) => `0x${(n >>> 0).toString(16).padStart(w, '0')}`;

function merge(a: State | undefined, b: State): State {
  if (!a) return b;
  return { a: a.a === b.a ? a.a : null, abi: a.abi === b.abi ? a.abi : null };
}

/** Facts known on entry to each instruction (jumps go forward only, so one pass suffices). */
function flow(program: readonly Insn[]): Array<State | undefined> {
  const states: Array<State | undefined> = new Array(program.length);
  states[0] = { a: null, abi: null };
  program.forEach((insn, pc) => {
    const s = states[pc];
    if (!s) return; // unreachable
    const to = (target: number, st: State) => {
      if (target < program.length) states[target] = merge(states[target], st);
    };
    const { code, k } = insn;
    switch (cls(code)) {
      case LD: to(pc + 1, { ...s, a: code === (LD | W | ABS) ? dataWordName(k) : null }); break;
      case ALU: case MISC: to(pc + 1, { ...s, a: null }); break;
      case JMP:
        if (op(code) === JA) to(pc + 1 + k, s);
        else {
          const onTrue = s.a === 'arch' && op(code) === JEQ && src(code) !== X ? { ...s, abi: ARCH_ABI.get(k) ?? null } : s;
          to(pc + 1 + insn.jt, onTrue);
          to(pc + 1 + insn.jf, s);
        }
        break;
      case RET: break;
      default: to(pc + 1, s);
    }
  });
  return states;
}

function constant(k: number, s: State | undefined): string {
  if (s?.a === 'arch') return ARCH_NAMES.get(k) ?? hex(k);
  if (s?.a === 'nr' && k === X32_SYSCALL_BIT) return '__X32_SYSCALL_BIT';
  if (s?.a === 'nr' && s.abi) {
    const abi: Abi = s.abi === 'x86_64' && k & X32_SYSCALL_BIT ? 'x32' : s.abi;
    const name = syscallName(k, abi);
    if (name) return abi === 'x32' ? `x32:${name}` : name;
  }
  return k < 10 ? String(k) : hex(k);
}

const A_NAMES: Record<string, string> = { nr: 'sys_number', arch: 'arch', 'ip.lo': 'instruction_pointer', 'ip.hi': 'instruction_pointer >> 32' };
function showLoad(k: number): string {
  const w = dataWordName(k);
  const m = /^args\[(\d)\]\.(lo|hi)$/.exec(w);
  if (m) return m[2] === 'lo' ? `args[${m[1]}]` : `args[${m[1]}] >> 32`;
  return A_NAMES[w] ?? `data[${k}]`;
}

const line = (i: number) => String(i).padStart(4, '0');

function meaning(insn: Insn, pc: number, s: State | undefined): string {
  const { code, k, jt, jf } = insn;
  const rhs = src(code) === X ? 'X' : constant(k, s);
  switch (cls(code)) {
    case LD:
      if (code === (LD | W | ABS)) return `A = ${showLoad(k)}`;
      if (code === (LD | IMM)) return `A = ${hex(k)}`;
      if (code === (LD | W | LEN)) return 'A = sizeof(seccomp_data)';
      if (code === (LD | MEM)) return `A = mem[${k}]`;
      return `unknown ld ${hex(code, 2)}`;
    case LDX:
      if (code === (LDX | IMM)) return `X = ${hex(k)}`;
      if (code === (LDX | W | LEN)) return 'X = sizeof(seccomp_data)';
      if (code === (LDX | MEM)) return `X = mem[${k}]`;
      return `unknown ldx ${hex(code, 2)}`;
    case ST: return `mem[${k}] = A`;
    case STX: return `mem[${k}] = X`;
    case ALU: {
      if (op(code) === NEG) return 'A = -A';
      const sym: Record<string, string> = { add: '+=', sub: '-=', mul: '*=', div: '/=', or: '|=', and: '&=', lsh: '<<=', rsh: '>>=', mod: '%=', xor: '^=' };
      return `A ${sym[ALU_NAMES[op(code)] ?? ''] ?? '?='} ${src(code) === X ? 'X' : hex(k)}`;
    }
    case JMP: {
      if (op(code) === JA) return `goto ${line(pc + 1 + k)}`;
      const T = line(pc + 1 + jt);
      const F = line(pc + 1 + jf);
      const [yes, no] = op(code) === JEQ ? ['==', '!='] : op(code) === JGT ? ['>', '<='] : op(code) === JGE ? ['>=', '<'] : ['&', '&'];
      const test = (o: string) => (op(code) === JSET ? (o === yes ? `A & ${rhs}` : `!(A & ${rhs})`) : `A ${o} ${rhs}`);
      if (jf === 0) return `if (${test(yes)}) goto ${T}`;
      if (jt === 0) return `if (${test(no)}) goto ${F}`;
      return `if (${test(yes)}) goto ${T} else goto ${F}`;
    }
    case RET: return (code & RET_A) === RET_A ? 'return A' : `return ${showAction(k)}`;
    case MISC: return (code & 0x80) ? 'A = X' : 'X = A';
  }
  return '?';
}

/**
 * The program as seccomp-tools' `disasm` lays it out:
 *
 *    line  CODE  JT   JF      K
 *   =================================
 *    0000: 0x20 0x00 0x00 0x00000004  A = arch
 *    0001: 0x15 0x00 0x05 0xc000003e  if (A != ARCH_X86_64) goto 0007
 */
export function explainProgram(program: readonly Insn[]): string {
  const states = flow(program);
  const rows = program.map((insn, pc) =>
    ` ${line(pc)}: ${hex(insn.code, 2)} ${hex(insn.jt, 2)} ${hex(insn.jf, 2)} ${hex(insn.k)}  ${meaning(insn, pc, states[pc])}`);
  return [' line  CODE  JT   JF      K', '=================================', ...rows].join('\n');
}

