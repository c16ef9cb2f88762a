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

const align8 = (n: number) => (n + 7) & ~7;
// Buffer's byteLength and write, not TextEncoder: a plan has a hundred short
// strings, and TextEncoder.encode allocates and crosses into C++ for each.
const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

/** The bytes a plan occupies, for sizing its memory before encoding. */
export function encodedSize(steps: readonly Step[]): number {
  let data = 0;
  const refs = new Set<number>();
  const seen = new Set<Uint8Array>();
  for (const step of steps) {
    for (const arg of step.args) {
      if (arg.kind === 'str') data += align8(utf8Length(arg.value) + 1);
      else if (arg.kind === 'bytes') {
        if (!seen.has(arg.value)) data += align8(arg.value.length);
        seen.add(arg.value);
        for (const p of arg.pointers ?? []) {
          if (!seen.has(p.to)) data += align8(p.to.length);
          seen.add(p.to);
        }
      }
      else if (arg.kind === 'strv') {
        data += 8 * (arg.value.length + 1);
        for (const s of arg.value) data += align8(utf8Length(s) + 1);
      } else if (arg.kind === 'ref') refs.add(arg.step);
    }
  }
  return HEADER_SIZE + STEP_SIZE * (steps.length + 1) + data + 8 * refs.size;
}

const TWO32 = 2 ** 32;

/**
 * A u64, little-endian, from a safe integer (a negative one as two's
 * complement): two u32 writes. The values of a plan are fds, flags, lengths
 * and addresses, and a BigInt for each cost more than the rest of the
 * encoding together in a fresh process, where V8 has not optimised it yet.
 */
function setU64(view: DataView, at: number, v: number): void {
  view.setUint32(at, v >>> 0, true);
  view.setUint32(at + 4, Math.floor(v / TWO32) >>> 0, true);
}

export function encodePlan(steps: readonly Step[], opts: EncodeOptions): Uint8Array {
  const size = encodedSize(steps);
  const out = Buffer.alloc(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let data = HEADER_SIZE + STEP_SIZE * (steps.length + 1);
  // Addresses are base + an offset into `out`, modulo 2^64.
  const base = BigInt.asUintN(64, opts.base);
  const baseLo = Number(base & 0xffffffffn);
  const baseHi = Number(base >> 32n);
  const setAddress = (v: DataView, at: number, offset: number): void => {
    const lo = baseLo + offset;
    v.setUint32(at, lo >>> 0, true);
    v.setUint32(at + 4, (baseHi + Math.floor(lo / TWO32)) >>> 0, true);
  };

  const place = (b: Uint8Array, terminate: boolean): number => {
    const at = data;
    out.set(b, at);
    data += align8(b.length + (terminate ? 1 : 0));
    return at;
  };
  /** A NUL-terminated string (the buffer is zeroed, so the NUL is there). */
  const placeString = (s: string): number => {
    const at = data;
    data += align8(out.write(s, at, 'utf8') + 1);
    return at;
  };
  const placed = new Map<Uint8Array, number>();
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

  setU64(view, 0, opts.errorFd);
  steps.forEach((step, i) => {
    const at = HEADER_SIZE + i * STEP_SIZE;
    setU64(view, at + STEP.nr, sysno(step.syscall, opts.arch));
    let indirect = 0;
    step.args.forEach((arg: Arg, j) => {
      if (j > 5) throw new RangeError(`${step.syscall}: a system call takes at most 6 arguments`);
      const slot = at + STEP.args + 8 * j;
      switch (arg.kind) {
        case 'num': {
          const v = arg.value;
          if (typeof v === 'number' && Number.isSafeInteger(v)) setU64(view, slot, v);
          else view.setBigUint64(slot, BigInt.asUintN(64, BigInt(v)), true);
          break;
        }
        case 'str': setAddress(view, slot, placeString(arg.value)); break;
        case 'bytes': {
          // The same struct object (the SIG_DFL sigaction of 62 resets) is
          // placed once: the kernel only reads these.
          let off = placed.get(arg.value);
          if (off === undefined) {
            let struct = arg.value;
            if (arg.pointers) {
              // The blocks pointed at are placed first; a copy of the
              // struct gets their addresses.
              struct = arg.value.slice();
              const sv = new DataView(struct.buffer);
              for (const p of arg.pointers) {
                let to = placed.get(p.to);
                if (to === undefined) placed.set(p.to, (to = place(p.to, false)));
                setAddress(sv, p.at, to);
              }
            }
            placed.set(arg.value, (off = place(struct, false)));
          }
          setAddress(view, slot, off);
          break;
        }
        case 'strv': {
          const ptrs = arg.value.map(placeString);
          const vec = new Uint8Array(8 * (ptrs.length + 1));
          const vv = new DataView(vec.buffer);
          ptrs.forEach((p, k) => setAddress(vv, 8 * k, p));
          setAddress(view, slot, place(vec, false));
          break;
        }
        case 'ref': {
          if (arg.step >= i) throw new RangeError(`step ${i} (${step.label}) uses the result of step ${arg.step}, which does not come before it`);
          setAddress(view, slot, slotFor(arg.step));
          indirect |= 1 << j;
          break;
        }
      }
    });
    view.setUint16(at + STEP.tolerate, step.tolerate ?? 0, true);
    view.setUint8(at + STEP.indirect, indirect);
    view.setUint8(at + STEP.flags, step.nonzero ? FLAG_NONZERO : 0);
  });
  // Result offsets are filled last: a slot is made when its first consumer is
  // encoded, after the producer's step was written.
  for (const [step, at] of slots) view.setUint32(HEADER_SIZE + step * STEP_SIZE + STEP.resultOffset, at, true);
  setU64(view, HEADER_SIZE + steps.length * STEP_SIZE + STEP.nr, -1);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
