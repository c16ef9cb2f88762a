// The rules the kernel applies before it accepts a filter, so that a bad
// program fails here with a reason instead of EINVAL from seccomp(2):
// bpf_check_classic() (net/core/filter.c) and seccomp_check_filter()
// (kernel/seccomp.c). seccomp admits only 32-bit absolute loads inside
// struct seccomp_data, no packet loads (H, B, IND, MSH), and treats
// `ld len` as the constant sizeof(struct seccomp_data).
import { ValidationError } from '@nsk/syscall';
import { SECCOMP_DATA_SIZE } from '../seccomp-data.ts';
import {
  ABS, ALU, DIV, IMM, JA, JEQ, JGE, JGT, JMP, JSET, K, LD, LDX, LEN, LSH, MAX_INSNS, MEM, MEMWORDS, MISC, MOD, NEG, RET,
  RET_A, RSH, ST, STX, TAX, TXA, W, ADD, SUB, MUL, OR, AND, XOR, X, cls, op, src, type Insn,
} from './opcodes.ts';

const ALU_OPS = new Set([ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, NEG, MOD, XOR]);
const JMP_OPS = new Set([JA, JEQ, JGT, JGE, JSET]);

function bad(i: number, why: string): never {
  throw new ValidationError(`program[${i}]`, why);
}

/** Throws a ValidationError naming the first instruction the kernel would refuse. */
export function checkProgram(program: readonly Insn[]): void {
  if (program.length === 0) throw new ValidationError('program', 'is empty');
  if (program.length > MAX_INSNS) throw new ValidationError('program', `has ${program.length} instructions; the kernel takes at most ${MAX_INSNS}`);
  program.forEach((insn, i) => {
    const { code, k } = insn;
    switch (cls(code)) {
      case LD:
        if (code === (LD | W | ABS)) {
          if (k % 4 !== 0 || k >= SECCOMP_DATA_SIZE) bad(i, `loads offset ${k}: seccomp_data is read in aligned 32-bit words below ${SECCOMP_DATA_SIZE}`);
        } else if (code === (LD | MEM)) {
          if (k >= MEMWORDS) bad(i, `scratch memory has ${MEMWORDS} words, not M[${k}]`);
        } else if (code !== (LD | IMM) && code !== (LD | W | LEN)) bad(i, `load 0x${code.toString(16)} is not allowed in seccomp (only 32-bit absolute, immediate, len and M[])`);
        break;
      case LDX:
        if (code === (LDX | MEM)) {
          if (k >= MEMWORDS) bad(i, `scratch memory has ${MEMWORDS} words, not M[${k}]`);
        } else if (code !== (LDX | IMM) && code !== (LDX | W | LEN)) bad(i, `ldx 0x${code.toString(16)} is not allowed in seccomp`);
        break;
      case ST:
      case STX:
        if (code !== ST && code !== STX) bad(i, `store 0x${code.toString(16)} is malformed`);
        if (k >= MEMWORDS) bad(i, `scratch memory has ${MEMWORDS} words, not M[${k}]`);
        break;
      case ALU:
        if (!ALU_OPS.has(op(code)) || (code & 0x07) !== ALU) bad(i, `unknown ALU operation 0x${code.toString(16)}`);
        if (op(code) === NEG && src(code) === X) bad(i, 'neg takes no operand');
        if ((op(code) === DIV || op(code) === MOD) && src(code) === K && k === 0) bad(i, 'divides by the constant 0');
        if ((op(code) === LSH || op(code) === RSH) && src(code) === K && k >= 32) bad(i, `shifts by ${k} (at most 31)`);
        break;
      case JMP: {
        if (!JMP_OPS.has(op(code))) bad(i, `unknown jump 0x${code.toString(16)}`);
        if (op(code) === JA) {
          if (src(code) !== K) bad(i, 'ja takes a constant offset');
          if (i + 1 + k >= program.length) bad(i, `ja +${k} lands past the end`);
        } else {
          if (i + 1 + insn.jt >= program.length || i + 1 + insn.jf >= program.length) bad(i, `a branch lands past the end (jt ${insn.jt}, jf ${insn.jf})`);
        }
        break;
      }
      case RET:
        if (code !== (RET | K) && code !== (RET | RET_A)) bad(i, `ret 0x${code.toString(16)} must return k or A`);
        break;
      case MISC:
        if (code !== (MISC | TAX) && code !== (MISC | TXA)) bad(i, `unknown misc 0x${code.toString(16)}`);
        break;
    }
  });
  // bpf_check_classic: the last instruction must return (no falling off).
  if (cls(program[program.length - 1]!.code) !== RET) throw new ValidationError(`program[${program.length - 1}]`, 'the last instruction must be a ret');
}
