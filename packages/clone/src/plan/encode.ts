// Lays a plan out in memory for the trampoline: header, steps, an end marker,
// then the data the steps point at. Pure: values in, bytes out, so it is
// tested byte for byte without root (test/encode.test.ts).
import { sysno, type Arch } from '@nsk/syscall';
import type { Arg, Step } from './step.ts';
import { FLAG_NONZERO, HEADER_SIZE, STEP, STEP_SIZE } from './layout.ts';

export interface EncodeOptions {
  /** The address the bytes will be copied to. */
  base: bigint;
  arch: Arch;
  /** The write end of the error pipe. */
  errorFd: number;
}

const utf8 = new TextEncoder();
const align8 = (n: number) => (n + 7) & ~7;

/** The bytes a plan occupies, for sizing its memory before encoding. */
export function encodedSize(steps: readonly Step[]): number {
  let data = 0;
  const refs = new Set<number>();
  const seen = new Set<Uint8Array>();
  for (const step of steps) {
    for (const arg of step.args) {
      if (arg.kind === 'str') data += align8(utf8.encode(arg.value).length + 1);
      else if (arg.kind === 'bytes') {
        for (const b of [arg.value, ...(arg.pointers ?? []).map((p) => p.to)]) {
          if (!seen.has(b)) data += align8(b.length);
          seen.add(b);
        }
      }
      else if (arg.kind === 'strv') {
        data += 8 * (arg.value.length + 1);
        for (const s of arg.value) data += align8(utf8.encode(s).length + 1);
      } else if (arg.kind === 'ref') refs.add(arg.step);
    }
  }
  return HEADER_SIZE + STEP_SIZE * (steps.length + 1) + data + 8 * refs.size;
}

export function encodePlan(steps: readonly Step[], opts: EncodeOptions): Uint8Array {
  const size = encodedSize(steps);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let data = HEADER_SIZE + STEP_SIZE * (steps.length + 1);

  const place = (b: Uint8Array, terminate: boolean): bigint => {
    const at = data;
    out.set(b, at);
    data += align8(b.length + (terminate ? 1 : 0));
    return opts.base + BigInt(at);
  };
  const placed = new Map<Uint8Array, bigint>();
  // One 8-byte slot per step whose result a later step uses: the producing
  // step stores its result there, consumers read it through the indirect bit.
  const slots = new Map<number, number>();
  const slotFor = (step: number): number => {
    let at = slots.get(step);
    if (at === undefined) {
      at = data;
      data += 8;
      slots.set(step, at);
    }
    return at;
  };

  view.setBigUint64(0, BigInt(opts.errorFd), true);
  steps.forEach((step, i) => {
    const at = HEADER_SIZE + i * STEP_SIZE;
    view.setBigInt64(at + STEP.nr, BigInt(sysno(step.syscall, opts.arch)), true);
    let indirect = 0;
    step.args.forEach((arg: Arg, j) => {
      if (j > 5) throw new RangeError(`${step.syscall}: a system call takes at most 6 arguments`);
      let value: bigint;
      switch (arg.kind) {
        case 'num': value = BigInt.asUintN(64, BigInt(arg.value)); break;
        case 'str': value = place(utf8.encode(arg.value), true); break;
        case 'bytes': {
          // The same struct object (the SIG_DFL sigaction of 62 resets) is
          // placed once: the kernel only reads these.
          let at = placed.get(arg.value);
          if (at === undefined) {
            let struct = arg.value;
            if (arg.pointers) {
              // The blocks pointed at are placed first; a copy of the
              // struct gets their addresses.
              struct = arg.value.slice();
              const sv = new DataView(struct.buffer);
              for (const p of arg.pointers) {
                let to = placed.get(p.to);
                if (to === undefined) placed.set(p.to, (to = place(p.to, false)));
                sv.setBigUint64(p.at, to, true);
              }
            }
            placed.set(arg.value, (at = place(struct, false)));
          }
          value = at;
          break;
        }
        case 'strv': {
          const ptrs = arg.value.map((s) => place(utf8.encode(s), true));
          const vec = new Uint8Array(8 * (ptrs.length + 1));
          const vv = new DataView(vec.buffer);
          ptrs.forEach((p, k) => vv.setBigUint64(8 * k, p, true));
          value = place(vec, false);
          break;
        }
        case 'ref': {
          if (arg.step >= i) throw new RangeError(`step ${i} (${step.label}) uses the result of step ${arg.step}, which does not come before it`);
          value = opts.base + BigInt(slotFor(arg.step));
          indirect |= 1 << j;
          break;
        }
      }
      view.setBigUint64(at + STEP.args + 8 * j, value, true);
    });
    view.setUint16(at + STEP.tolerate, step.tolerate ?? 0, true);
    view.setUint8(at + STEP.indirect, indirect);
    view.setUint8(at + STEP.flags, step.nonzero ? FLAG_NONZERO : 0);
  });
  // Result offsets are filled last: a slot is made when its first consumer is
  // encoded, after the producer's step was written.
  for (const [step, at] of slots) view.setUint32(HEADER_SIZE + step * STEP_SIZE + STEP.resultOffset, at, true);
  view.setBigInt64(HEADER_SIZE + steps.length * STEP_SIZE + STEP.nr, -1n, true);
  return out;
}
