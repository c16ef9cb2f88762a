// A classic-BPF assembler with labels.
//
//   const a = new Asm();
//   const allow = a.label('allow');
//   a.ld(OFF_NR).jeq(39, allow).ret(ERRNO | 1);
//   a.bind(allow).ret(ALLOW);
//   a.assemble();   // → Insn[]
//
// Jumps name labels (or 'next'). A conditional jump reaches only 255
// instructions ahead (jt and jf are bytes, filter.h); when a label is
// farther, assemble() puts a stub right after the jump: a copy of the
// target when the target is a `ret` (one instruction either way, and one
// fewer to run), else a `ja`, whose offset is 32 bits.
import { ValidationError } from '@nsk/syscall';
import {
  ABS, ALU, IMM, JA, JEQ, JGE, JGT, JMP, JSET, K, LD, LDX, LEN, MEM, MISC, NEG, RET, RET_A, ST, STX, TAX, TXA, W, X,
  cls, op, type Insn,
} from './opcodes.ts';

/** A place in the program, bound with `Asm.bind`. */
export class Label {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

/** Where a jump goes: a label, or the next instruction. */
export type Target = Label | 'next';

interface Item {
  code: number;
  k: number;
  jt: Target;
  jf: Target;
}

interface Placed {
  code: number;
  k: number;
  jt: Placed | null;
  jf: Placed | null;
}

const MAX_COND = 255;

export class Asm {
  readonly #items: Item[] = [];
  /** Label → index of the instruction it stands before. */
  readonly #bound = new Map<Label, number>();
  #count = 0;

  /** A new, unbound label. Names only serve error messages. */
  label(name = `L${this.#count++}`): Label {
    return new Label(name);
  }

  /** Binds `label` to the next instruction emitted. */
  bind(label: Label): this {
    if (this.#bound.has(label)) throw new ValidationError(`label ${label.name}`, 'bound twice');
    this.#bound.set(label, this.#items.length);
    return this;
  }

  /** True once `label` is bound. */
  isBound(label: Label): boolean {
    return this.#bound.has(label);
  }

  /** Instructions emitted so far. */
  get length(): number {
    return this.#items.length;
  }

  /** Appends a raw instruction; jumps take targets instead of offsets. */
  emit(code: number, k = 0, jt: Target = 'next', jf: Target = 'next'): this {
    this.#items.push({ code, k: k >>> 0, jt, jf });
    return this;
  }

  /** A = the 32-bit word at `offset` of struct seccomp_data. */
  ld(offset: number): this {
    return this.emit(LD | W | ABS, offset);
  }
  ldImm(k: number): this {
    return this.emit(LD | IMM, k);
  }
  ldLen(): this {
    return this.emit(LD | W | LEN);
  }
  ldMem(i: number): this {
    return this.emit(LD | MEM, i);
  }
  ldxImm(k: number): this {
    return this.emit(LDX | IMM, k);
  }
  ldxLen(): this {
    return this.emit(LDX | W | LEN);
  }
  ldxMem(i: number): this {
    return this.emit(LDX | MEM, i);
  }
  st(i: number): this {
    return this.emit(ST, i);
  }
  stx(i: number): this {
    return this.emit(STX, i);
  }
  /** A = A <op> k (or X). `op` is one of the ALU constants (ADD, AND, …). */
  alu(operation: number, operand: number | 'x' = 0): this {
    if (operation === NEG) return this.emit(ALU | NEG);
    return operand === 'x' ? this.emit(ALU | operation | X) : this.emit(ALU | operation | K, operand);
  }
  tax(): this {
    return this.emit(MISC | TAX);
  }
  txa(): this {
    return this.emit(MISC | TXA);
  }

  /** A conditional jump: to `jt` when the test holds, else to `jf`. */
  jmp(operation: number, operand: number | 'x', jt: Target, jf: Target = 'next'): this {
    return operand === 'x' ? this.emit(JMP | operation | X, 0, jt, jf) : this.emit(JMP | operation | K, operand, jt, jf);
  }
  jeq(k: number, jt: Target, jf: Target = 'next'): this {
    return this.jmp(JEQ, k, jt, jf);
  }
  jgt(k: number, jt: Target, jf: Target = 'next'): this {
    return this.jmp(JGT, k, jt, jf);
  }
  jge(k: number, jt: Target, jf: Target = 'next'): this {
    return this.jmp(JGE, k, jt, jf);
  }
  jset(k: number, jt: Target, jf: Target = 'next'): this {
    return this.jmp(JSET, k, jt, jf);
  }
  /** An unconditional jump (32-bit offset). */
  ja(target: Target): this {
    return this.emit(JMP | JA, 0, target, 'next');
  }
  ret(k: number): this {
    return this.emit(RET | K, k);
  }
  retA(): this {
    return this.emit(RET | RET_A);
  }

  /** Resolves labels, adds stubs for far jumps, returns the program. */
  assemble(): Insn[] {
    const n = this.#items.length;
    const placed: Placed[] = this.#items.map((it) => ({ code: it.code, k: it.k, jt: null, jf: null }));
    const resolve = (t: Target, i: number, field: string): Placed => {
      const at = t === 'next' ? i + 1 : this.#bound.get(t);
      if (at === undefined) throw new ValidationError(`label ${(t as Label).name}`, `used by instruction ${i} (${field}) but never bound`);
      if (at >= n) throw new ValidationError(t === 'next' ? `instruction ${i}` : `label ${(t as Label).name}`, 'jumps past the last instruction');
      if (at <= i) throw new ValidationError(`instruction ${i}`, 'classic BPF jumps only forward');
      return placed[at]!;
    };
    this.#items.forEach((it, i) => {
      if (cls(it.code) !== JMP) return;
      placed[i]!.jt = resolve(it.jt, i, 'jt');
      if (op(it.code) !== JA) placed[i]!.jf = resolve(it.jf, i, 'jf');
    });
    const order = fixFarJumps(placed);
    const index = new Map(order.map((p, i) => [p, i]));
    return order.map((p, i): Insn => {
      if (cls(p.code) !== JMP) return { code: p.code, jt: 0, jf: 0, k: p.k };
      const off = (t: Placed | null) => (t === null ? 0 : index.get(t)! - i - 1);
      if (op(p.code) === JA) return { code: p.code, jt: 0, jf: 0, k: off(p.jt) };
      return { code: p.code, jt: off(p.jt), jf: off(p.jf), k: p.k };
    });
  }
}

/** True when control never falls from `p` into `next`. */
function endsFlow(p: Placed, next: Placed): boolean {
  if (cls(p.code) === RET) return true;
  if (cls(p.code) !== JMP) return false;
  return op(p.code) === JA || (p.jt !== next && p.jf !== next);
}

const sameStub = (a: Placed, b: Placed) => a.code === b.code && a.k === b.k && a.jt === b.jt;

/**
 * Gives every conditional jump a target within reach. For a far target it
 * first looks for a copy of it already in reach; else it puts one — a `ret`
 * copied, or a `ja` — in the farthest gap in reach (a place control never
 * falls into: after a ret, a ja, or a two-way jump), where later jumps can
 * share it; with no gap, right after the jump. Insertions can push other
 * jumps out of reach, so it loops to a fixed point.
 */
function fixFarJumps(order: Placed[]): Placed[] {
  for (;;) {
    const index = new Map(order.map((p, i) => [p, i]));
    let changed = false;
    for (let i = 0; i < order.length && !changed; i++) {
      const p = order[i]!;
      if (cls(p.code) !== JMP || op(p.code) === JA) continue;
      for (const field of ['jt', 'jf'] as const) {
        const t = p[field]!;
        if (index.get(t)! - i - 1 <= MAX_COND) continue;
        const stub: Placed = cls(t.code) === RET ? { code: t.code, k: t.k, jt: null, jf: null } : { code: JMP | JA, k: 0, jt: t, jf: null };
        const last = Math.min(order.length - 1, i + 1 + MAX_COND);
        let reuse: Placed | undefined;
        for (let j = i + 1; j <= last && !reuse; j++) if (sameStub(order[j]!, stub)) reuse = order[j];
        if (reuse) {
          p[field] = reuse;
        } else {
          // The farthest gap g in reach (insert before order[g]) that does
          // not push another jump out of reach: one at exactly 255 across it.
          const tightAcross = (g: number) => {
            for (let h = Math.max(0, g - 1 - MAX_COND); h < g; h++) {
              const q = order[h]!;
              if (cls(q.code) !== JMP || op(q.code) === JA) continue;
              for (const b of [q.jt!, q.jf!]) if (index.get(b)! >= g && index.get(b)! - h - 1 === MAX_COND) return true;
            }
            return false;
          };
          let gap = i + 1;
          for (let g = last; g > i + 1; g--) {
            if (endsFlow(order[g - 1]!, order[g]!) && !tightAcross(g)) {
              gap = g;
              break;
            }
          }
          order.splice(gap, 0, stub);
          p[field] = stub;
        }
        changed = true;
        break;
      }
    }
    if (!changed) return order;
  }
}
