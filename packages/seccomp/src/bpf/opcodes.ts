// Classic BPF as seccomp(2) takes it: linux/filter.h and linux/bpf_common.h.
// An instruction is `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }`:
// 8 bytes, jumps only forward, a conditional jump reaches at most 255
// instructions ahead (jt and jf are bytes), `ja` up to 2^32 - 1.

/** One instruction of a classic BPF program. */
export interface Insn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

// Instruction classes.
export const LD = 0x00;
export const LDX = 0x01;
export const ST = 0x02;
export const STX = 0x03;
export const ALU = 0x04;
export const JMP = 0x05;
export const RET = 0x06;
export const MISC = 0x07;

// ld/ldx sizes and modes. seccomp only admits 32-bit words (W).
export const W = 0x00;
export const H = 0x08;
export const B = 0x10;
export const IMM = 0x00;
export const ABS = 0x20;
export const IND = 0x40;
export const MEM = 0x60;
export const LEN = 0x80;
export const MSH = 0xa0;

// ALU operations.
export const ADD = 0x00;
export const SUB = 0x10;
export const MUL = 0x20;
export const DIV = 0x30;
export const OR = 0x40;
export const AND = 0x50;
export const LSH = 0x60;
export const RSH = 0x70;
export const NEG = 0x80;
export const MOD = 0x90;
export const XOR = 0xa0;

// Jump operations.
export const JA = 0x00;
export const JEQ = 0x10;
export const JGT = 0x20;
export const JGE = 0x30;
export const JSET = 0x40;

// Operand source: the constant k or the index register X.
export const K = 0x00;
export const X = 0x08;
// ret's operand: k or the accumulator A.
export const RET_A = 0x10;

// misc: A → X, X → A.
export const TAX = 0x00;
export const TXA = 0x80;

export const cls = (code: number): number => code & 0x07;
export const size = (code: number): number => code & 0x18;
export const mode = (code: number): number => code & 0xe0;
export const op = (code: number): number => code & 0xf0;
export const src = (code: number): number => code & 0x08;

/** BPF_MAXINSNS: the kernel refuses longer programs. */
export const MAX_INSNS = 4096;
/** BPF_MEMWORDS: scratch memory M[0..15]. */
export const MEMWORDS = 16;

export const stmt = (code: number, k: number): Insn => ({ code, jt: 0, jf: 0, k: k >>> 0 });
export const jump = (code: number, k: number, jt: number, jf: number): Insn => ({ code, jt, jf, k: k >>> 0 });

export const ALU_NAMES: Readonly<Record<number, string>> = {
  [ADD]: 'add', [SUB]: 'sub', [MUL]: 'mul', [DIV]: 'div', [OR]: 'or', [AND]: 'and',
  [LSH]: 'lsh', [RSH]: 'rsh', [NEG]: 'neg', [MOD]: 'mod', [XOR]: 'xor',
};
export const JMP_NAMES: Readonly<Record<number, string>> = { [JA]: 'ja', [JEQ]: 'jeq', [JGT]: 'jgt', [JGE]: 'jge', [JSET]: 'jset' };
