// 64-bit argument comparisons in a machine with 32-bit words. Each u64
// argument is two words (seccomp-data.ts); the high halves decide unless
// they are equal, then the low halves do:
//   a > v  ⇔  a.hi > v.hi  ∨ (a.hi = v.hi ∧ a.lo > v.lo)
//   a ≥ v  ⇔  a.hi > v.hi  ∨ (a.hi = v.hi ∧ a.lo ≥ v.lo)
//   a < v  ⇔ ¬(a ≥ v),  a ≤ v ⇔ ¬(a > v),  a ≠ v ⇔ ¬(a = v)
//   (a & m) = d  ⇔  (a.hi & m.hi) = d.hi ∧ (a.lo & m.lo) = d.lo
// Halves whose answer is known from the constants alone emit nothing (a
// mask of 0, a bound of 0 or 2^32-1).
import { JEQ, JGE, JGT } from '../bpf/opcodes.ts';
import { argOffset } from '../seccomp-data.ts';
import type { Condition } from '../policy.ts';
import type { Target } from '../bpf/asm.ts';
import type { Emitter } from './emitter.ts';

const U32 = 0xffffffff;
const hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
const lo = (v: bigint) => Number(v & 0xffffffffn);

/** Emits a test of `c` that goes to `T` when it holds and `F` when not. */
export function emitCondition(e: Emitter, c: Condition, T: Target, F: Target): void {
  // The high half's branches must not fall through to "after the test":
  // that is where the low half starts. Give "after" a real label.
  const end = T === 'next' || F === 'next' ? e.label() : null;
  const t = T === 'next' ? end! : T;
  const f = F === 'next' ? end! : F;
  // A jump to `end` right before it is bound would be a wasted `ja 0`.
  const go = (x: Target) => {
    if (x !== end) e.goto(x);
  };
  const H = argOffset(c.index, 'hi');
  const L = argOffset(c.index, 'lo');
  switch (c.op) {
    case 'eq':
    case 'ne': {
      const [yes, no] = c.op === 'eq' ? [t, f] : [f, t];
      e.load(H).jump(JEQ, hi(c.value), 'next', no);
      e.load(L).jump(JEQ, lo(c.value), yes, no);
      break;
    }
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      // lt and le are the negations of ge and gt.
      const strict = c.op === 'gt' || c.op === 'le';
      const [yes, no] = c.op === 'gt' || c.op === 'ge' ? [t, f] : [f, t];
      const vh = hi(c.value);
      const vl = lo(c.value);
      e.load(H);
      if (vh !== U32) e.jump(JGT, vh, yes, 'next');
      // Not above: when vh is 0 the high half must be 0, no test needed.
      if (vh !== 0) e.jump(JEQ, vh, 'next', no);
      if (strict && vl === U32) go(no);
      else if (!strict && vl === 0) go(yes);
      else e.load(L).jump(strict ? JGT : JGE, vl, yes, no);
      break;
    }
    case 'masked-eq': {
      const [mh, ml, dh, dl] = [hi(c.value), lo(c.value), hi(c.valueTwo), lo(c.valueTwo)];
      // A datum bit outside the mask can never match.
      if ((mh & dh) >>> 0 !== dh || (ml & dl) >>> 0 !== dl) {
        go(f);
        break;
      }
      if (mh !== 0) {
        e.load(H);
        if (mh !== U32) e.and(mh);
        e.jump(JEQ, dh, 'next', f);
      }
      if (ml === 0) go(t);
      else {
        e.load(L);
        if (ml !== U32) e.and(ml);
        e.jump(JEQ, dl, t, f);
      }
      break;
    }
  }
  if (end) e.bind(end);
}
