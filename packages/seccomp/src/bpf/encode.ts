// struct sock_filter[] ↔ bytes, in the machine's (little-endian) order:
// u16 code, u8 jt, u8 jf, u32 k — what seccomp(2) reads through
// struct sock_fprog, and what libseccomp's seccomp_export_bpf() writes.
import { ValidationError } from '@nsk/syscall';
import type { Insn } from './opcodes.ts';

export const INSN_SIZE = 8;

export function encodeProgram(program: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(program.length * INSN_SIZE);
  const v = new DataView(out.buffer);
  program.forEach((insn, i) => {
    v.setUint16(i * INSN_SIZE, insn.code, true);
    v.setUint8(i * INSN_SIZE + 2, insn.jt);
    v.setUint8(i * INSN_SIZE + 3, insn.jf);
    v.setUint32(i * INSN_SIZE + 4, insn.k >>> 0, true);
  });
  return out;
}

export function decodeProgram(bytes: Uint8Array): Insn[] {
  if (bytes.length % INSN_SIZE !== 0) throw new ValidationError('program', `${bytes.length} bytes is not a whole number of ${INSN_SIZE}-byte instructions`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let at = 0; at < bytes.length; at += INSN_SIZE) {
    out.push({ code: v.getUint16(at, true), jt: v.getUint8(at + 2), jf: v.getUint8(at + 3), k: v.getUint32(at + 4, true) });
  }
  return out;
}
