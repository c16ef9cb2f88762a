// A classic-BPF interpreter for seccomp programs, to ask a filter what it
// does without installing it, and to measure it: how many instructions a
// call runs, and which words of seccomp_data it reads.
import { ValidationError } from '@nsk/syscall';
import { OFF_ARCH, OFF_NR, SECCOMP_DATA_SIZE, encodeSeccompData, type SeccompData } from '../seccomp-data.ts';
import {
  ABS, ADD, ALU, AND, DIV, IMM, JA, JEQ, JGE, JGT, JMP, JSET, LD, LDX, LEN, LSH, MEM, MEMWORDS, MISC, MOD, MUL, NEG, OR,
  RET, RET_A, RSH, ST, STX, SUB, W, X, XOR, cls, op, src, type Insn,
} from './opcodes.ts';

export interface Emulation {
  /** The value the filter returned (SECCOMP_RET_* | data). */
  ret: number;
  /** Instructions executed, the final ret included. */
  executed: number;
  /** Offsets of every seccomp_data word loaded, in order. */
  loads: number[];
  /** The index of each instruction executed. */
  path: number[];
}

/** Runs `program` on one system call as the kernel would. */
export function emulate(program: readonly Insn[], data: SeccompData): Emulation {
  const bytes = encodeSeccompData(data);
  const mem = new Uint32Array(MEMWORDS);
  let a = 0;
  let x = 0;
  const loads: number[] = [];
  const path: number[] = [];
  for (let pc = 0; pc < program.length; pc++) {
    const { code, k, jt, jf } = program[pc]!;
    path.push(pc);
    const operand = src(code) === X ? x : k;
    switch (cls(code)) {
      case LD:
        if (code === (LD | W | ABS)) {
          if (k % 4 !== 0 || k >= SECCOMP_DATA_SIZE) throw new ValidationError(`program[${pc}]`, `loads offset ${k}`);
          a = bytes.getUint32(k, true);
          loads.push(k);
        } else if (code === (LD | IMM)) a = k;
        else if (code === (LD | W | LEN)) a = SECCOMP_DATA_SIZE;
        else if (code === (LD | MEM)) a = mem[k]!;
        else throw new ValidationError(`program[${pc}]`, `load 0x${code.toString(16)} is not allowed in seccomp`);
        break;
      case LDX:
        if (code === (LDX | IMM)) x = k;
        else if (code === (LDX | W | LEN)) x = SECCOMP_DATA_SIZE;
        else if (code === (LDX | MEM)) x = mem[k]!;
        else throw new ValidationError(`program[${pc}]`, `ldx 0x${code.toString(16)} is not allowed in seccomp`);
        break;
      case ST:
        mem[k] = a;
        break;
      case STX:
        mem[k] = x;
        break;
      case ALU:
        switch (op(code)) {
          case ADD: a = (a + operand) >>> 0; break;
          case SUB: a = (a - operand) >>> 0; break;
          case MUL: a = Number((BigInt(a) * BigInt(operand)) & 0xffffffffn); break;
          case DIV:
            // A division by X = 0 ends the program returning 0 (net/core/filter.c).
            if (operand === 0) return { ret: 0, executed: path.length, loads, path };
            a = Math.floor(a / operand) >>> 0;
            break;
          case MOD:
            if (operand === 0) return { ret: 0, executed: path.length, loads, path };
            a = (a % operand) >>> 0;
            break;
          case OR: a = (a | operand) >>> 0; break;
          case AND: a = (a & operand) >>> 0; break;
          case XOR: a = (a ^ operand) >>> 0; break;
          case LSH: a = operand >= 32 ? 0 : (a << operand) >>> 0; break;
          case RSH: a = operand >= 32 ? 0 : a >>> operand; break;
          case NEG: a = (-a) >>> 0; break;
        }
        break;
      case JMP:
        switch (op(code)) {
          case JA: pc += k; break;
          case JEQ: pc += a === operand ? jt : jf; break;
          case JGT: pc += a > operand ? jt : jf; break;
          case JGE: pc += a >= operand ? jt : jf; break;
          case JSET: pc += (a & operand) !== 0 ? jt : jf; break;
        }
        break;
      case RET:
        return { ret: (code & RET_A) === RET_A ? a : k, executed: path.length, loads, path };
      case MISC:
        if ((code & 0x80) === 0) x = a;
        else a = x;
        break;
    }
  }
  throw new ValidationError('program', 'ran off the end without a ret');
}

/**
 * The kernel's action cache test (seccomp_cache_prepare_bitmap in
 * kernel/seccomp.c, since Linux 5.11): for a native syscall number it
 * follows the filter knowing only `arch` and `nr`, through nothing but
 * loads of those two words, ja, jeq/jgt/jge/jset against constants and
 * `and` with a constant. If that reaches `ret ALLOW`, the kernel marks the
 * number allowed and never runs the filter for it again.
 */
export function cachedAllow(program: readonly Insn[], arch: number, nr: number): boolean {
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, k, jt, jf } = program[pc]!;
    if (code === (LD | W | ABS)) {
      if (k === OFF_NR) a = nr >>> 0;
      else if (k === OFF_ARCH) a = arch >>> 0;
      else return false;
    } else if (code === (RET | 0)) return k === 0x7fff0000;
    else if (code === (JMP | JA)) pc += k;
    else if (cls(code) === JMP && src(code) === 0) {
      const o = op(code);
      const yes = o === JEQ ? a === k : o === JGE ? a >= k : o === JGT ? a > k : o === JSET ? (a & k) !== 0 : null;
      if (yes === null) return false;
      pc += yes ? jt : jf;
    } else if (code === (ALU | AND)) a = (a & k) >>> 0;
    else return false;
  }
  return false;
}
