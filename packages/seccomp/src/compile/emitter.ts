// The assembler, plus what the accumulator holds: a load of the word A
// already has is dropped. Jumps only go forward, so when a label is bound
// every jump to it has been seen, and A is known there if all agree.
import { Asm, type Label, type Target } from '../bpf/asm.ts';
import { AND, JA, JMP } from '../bpf/opcodes.ts';

export class Emitter {
  readonly asm = new Asm();
  /** The seccomp_data offset A holds, or null. */
  #acc: number | null = null;
  #reachable = true;
  readonly #incoming = new Map<Label, Array<number | null>>();

  label(name?: string): Label {
    return this.asm.label(name);
  }

  #arrive(t: Target): void {
    if (t === 'next') return;
    let list = this.#incoming.get(t);
    if (!list) this.#incoming.set(t, (list = []));
    list.push(this.#acc);
  }

  bind(label: Label): this {
    const states = [...(this.#incoming.get(label) ?? [])];
    if (this.#reachable) states.push(this.#acc);
    this.#acc = states.length > 0 && states.every((s) => s === states[0]) ? states[0]! : null;
    this.#reachable = true;
    this.asm.bind(label);
    return this;
  }

  load(offset: number): this {
    if (this.#reachable && this.#acc === offset) return this;
    this.asm.ld(offset);
    this.#acc = offset;
    this.#reachable = true;
    return this;
  }

  and(mask: number): this {
    this.asm.alu(AND, mask);
    this.#acc = null;
    return this;
  }

  /** A conditional jump; both targets 'next' emits nothing. */
  jump(operation: number, k: number, jt: Target, jf: Target): this {
    if (jt === 'next' && jf === 'next') return this;
    if (jt !== 'next' && jt === jf) return this.goto(jt);
    this.#arrive(jt);
    this.#arrive(jf);
    this.asm.jmp(operation, k, jt, jf);
    if (jt !== 'next' && jf !== 'next') this.#reachable = false;
    return this;
  }

  /** An unconditional jump; to 'next' it is nothing. */
  goto(t: Target): this {
    if (t === 'next') return this;
    this.#arrive(t);
    this.asm.emit(JMP | JA, 0, t);
    this.#reachable = false;
    return this;
  }

  ret(value: number): this {
    this.asm.ret(value);
    this.#reachable = false;
    return this;
  }
}
