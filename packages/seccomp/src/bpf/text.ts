// Classic BPF as text, in the syntax of the kernel's bpf_asm
// (tools/bpf/bpf_asm), reduced to what seccomp admits:
//
//   ; only x86_64, and mkdir gets EPERM
//           ld [arch]
//           jne #0xc000003e, kill
//           ld [nr]
//           jeq #83, deny, allow
//   deny:   ret #ERRNO(1)
//   allow:  ret #ALLOW
//   kill:   ret #KILL_PROCESS
//
// `[k]` is a byte offset in seccomp_data; `[nr]`, `[arch]`, `[args[2].hi]`
// name them. Immediates are numbers or SECCOMP_RET names. One label per
// line at most; `;` starts a comment. disassemble() writes the same syntax,
// so assemble(disassemble(p)) is p.
import { ValidationError } from '@nsk/syscall';
import { RET as RETV } from '../action.ts';
import { OFF_ARCH, OFF_IP, OFF_NR, argOffset } from '../seccomp-data.ts';
import { Asm, type Label, type Target } from './asm.ts';
import {
  ABS, ADD, ALU, ALU_NAMES, AND, DIV, IMM, JA, JEQ, JGE, JGT, JMP, JMP_NAMES, JSET, LD, LDX, LEN, LSH, MEM, MISC, MOD, MUL,
  NEG, OR, RET, RET_A, RSH, ST, STX, SUB, W, X, XOR, cls, op, src, type Insn,
} from './opcodes.ts';

const ALU_OPS: Record<string, number> = { add: ADD, sub: SUB, mul: MUL, div: DIV, or: OR, and: AND, lsh: LSH, rsh: RSH, mod: MOD, xor: XOR };

function offset(inner: string, where: string): number {
  if (inner === 'nr') return OFF_NR;
  if (inner === 'arch') return OFF_ARCH;
  if (inner === 'ip') return OFF_IP;
  const m = /^args\[([0-5])\]\.(lo|hi)$/.exec(inner);
  if (m) return argOffset(Number(m[1]), m[2] as 'lo' | 'hi');
  return number(inner, where);
}

function number(s: string, where: string): number {
  const v = /^(0x[0-9a-f]+|\d+)$/i.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ValidationError(where, `not a 32-bit number: ${JSON.stringify(s)}`);
  return v;
}

function immediate(s: string, where: string): number {
  if (!s.startsWith('#')) throw new ValidationError(where, `expected an immediate (#k), got ${JSON.stringify(s)}`);
  const body = s.slice(1);
  const m = /^([A-Z_]+)(?:\((\d+)\))?$/.exec(body);
  if (m && m[1]! in RETV) return (RETV[m[1] as keyof typeof RETV] | Number(m[2] ?? 0)) >>> 0;
  return number(body, where);
}

/** Assembles bpf_asm text into a program. Errors name the line: `line 4`. */
export function assemble(text: string): Insn[] {
  const asm = new Asm();
  const labels = new Map<string, Label>();
  const lbl = (name: string): Label => {
    let l = labels.get(name);
    if (!l) labels.set(name, (l = asm.label(name)));
    return l;
  };
  text.split('\n').forEach((raw, i) => {
    const where = `line ${i + 1}`;
    let s = raw.replace(/;.*$/, '').trim();
    const lm = /^([A-Za-z_.$][\w.$]*):\s*(.*)$/.exec(s);
    if (lm) {
      asm.bind(lbl(lm[1]!));
      s = lm[2]!;
    }
    if (!s) return;
    const sp = s.search(/\s/);
    const mnemonic = (sp < 0 ? s : s.slice(0, sp)).toLowerCase();
    const ops = sp < 0 ? [] : s.slice(sp + 1).split(',').map((o) => o.trim());
    const want = (n: number, m = n) => {
      if (ops.length < n || ops.length > m) throw new ValidationError(where, `${mnemonic} takes ${n === m ? n : `${n}–${m}`} operand(s)`);
    };
    const mem = (o: string) => {
      const mm = /^M\[(\d+)\]$/i.exec(o);
      return mm ? Number(mm[1]) : null;
    };
    switch (mnemonic) {
      case 'ld': case 'ldx': {
        want(1);
        const o = ops[0]!;
        const x = mnemonic === 'ldx';
        const m = mem(o);
        if (o === 'len') x ? asm.ldxLen() : asm.ldLen();
        else if (m !== null) x ? asm.ldxMem(m) : asm.ldMem(m);
        else if (o.startsWith('#')) x ? asm.ldxImm(immediate(o, where)) : asm.ldImm(immediate(o, where));
        else if (!x && /^\[.+\]$/.test(o)) asm.ld(offset(o.slice(1, -1), where));
        else throw new ValidationError(where, `cannot load ${JSON.stringify(o)}`);
        break;
      }
      case 'st': case 'stx': {
        want(1);
        const m = mem(ops[0]!);
        if (m === null) throw new ValidationError(where, `${mnemonic} stores to M[k], not ${JSON.stringify(ops[0])}`);
        mnemonic === 'st' ? asm.st(m) : asm.stx(m);
        break;
      }
      case 'neg': want(0); asm.alu(NEG); break;
      case 'tax': want(0); asm.tax(); break;
      case 'txa': want(0); asm.txa(); break;
      case 'ja': case 'jmp': want(1); asm.ja(lbl(ops[0]!)); break;
      case 'jeq': case 'jgt': case 'jge': case 'jset': case 'jne': case 'jneq': case 'jlt': case 'jle': {
        want(2, 3);
        const operand = ops[0] === 'x' ? 'x' : immediate(ops[0]!, where);
        const t: Target = lbl(ops[1]!);
        const f: Target = ops[2] !== undefined ? lbl(ops[2]) : 'next';
        // jne/jlt/jle are the negations, with their one target taken when false.
        if (mnemonic === 'jne' || mnemonic === 'jneq') asm.jmp(JEQ, operand, f, t);
        else if (mnemonic === 'jlt') asm.jmp(JGE, operand, f, t);
        else if (mnemonic === 'jle') asm.jmp(JGT, operand, f, t);
        else asm.jmp({ jeq: JEQ, jgt: JGT, jge: JGE, jset: JSET }[mnemonic], operand, t, f);
        break;
      }
      case 'ret': {
        want(1);
        if (ops[0]!.toLowerCase() === 'a') asm.retA();
        else asm.ret(immediate(ops[0]!, where));
        break;
      }
      default: {
        const alu = ALU_OPS[mnemonic];
        if (alu === undefined) throw new ValidationError(where, `unknown instruction ${JSON.stringify(mnemonic)}`);
        want(1);
        asm.alu(alu, ops[0] === 'x' ? 'x' : immediate(ops[0]!, where));
      }
    }
  });
  return asm.assemble();
}

/** bpf_asm text for `program`, with a label on every jump target. */
export function disassemble(program: readonly Insn[]): string {
  const targets = new Set<number>();
  program.forEach((insn, pc) => {
    if (cls(insn.code) !== JMP) return;
    if (op(insn.code) === JA) targets.add(pc + 1 + insn.k);
    else {
      targets.add(pc + 1 + insn.jt);
      targets.add(pc + 1 + insn.jf);
    }
  });
  const L = (pc: number) => `L${pc}`;
  const hex = (k: number) => (k < 10 ? String(k) : `0x${k.toString(16)}`);
  return program.map((insn, pc) => {
    const { code, k, jt, jf } = insn;
    let s: string;
    switch (cls(code)) {
      case LD:
        s = code === (LD | W | ABS) ? `ld [${k}]` : code === (LD | IMM) ? `ld #${hex(k)}` : code === (LD | W | LEN) ? 'ld len' : code === (LD | MEM) ? `ld M[${k}]` : `; unknown 0x${code.toString(16)}`;
        break;
      case LDX:
        s = code === (LDX | IMM) ? `ldx #${hex(k)}` : code === (LDX | W | LEN) ? 'ldx len' : code === (LDX | MEM) ? `ldx M[${k}]` : `; unknown 0x${code.toString(16)}`;
        break;
      case ST: s = `st M[${k}]`; break;
      case STX: s = `stx M[${k}]`; break;
      case ALU: s = op(code) === NEG ? 'neg' : `${ALU_NAMES[op(code)]} ${src(code) === X ? 'x' : `#${hex(k)}`}`; break;
      case JMP:
        s = op(code) === JA ? `ja ${L(pc + 1 + k)}` : `${JMP_NAMES[op(code)]} ${src(code) === X ? 'x' : `#${hex(k)}`}, ${L(pc + 1 + jt)}, ${L(pc + 1 + jf)}`;
        break;
      case RET: s = (code & RET_A) === RET_A ? 'ret a' : `ret #${hex(k)}`; break;
      case MISC: s = code & 0x80 ? 'txa' : 'tax'; break;
      default: s = `; unknown 0x${code.toString(16)}`;
    }
    return `${targets.has(pc) ? `${L(pc)}:` : ''}\t${s}`;
  }).join('\n');
}

