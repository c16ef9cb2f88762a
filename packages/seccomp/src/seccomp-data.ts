// struct seccomp_data (linux/seccomp.h), what a filter reads:
//   int nr; u32 arch; u64 instruction_pointer; u64 args[6];
// 64 bytes. A filter loads 32-bit words, so each u64 is two loads. x86_64
// and aarch64 are little-endian: the low half of args[i] sits at 16 + 8i,
// the high half 4 bytes later.

export const SECCOMP_DATA_SIZE = 64;
export const OFF_NR = 0;
export const OFF_ARCH = 4;
export const OFF_IP = 8;
export const OFF_ARGS = 16;

/** Offset of the low (`'lo'`) or high (`'hi'`) 32 bits of args[index]. */
export function argOffset(index: number, half: 'lo' | 'hi'): number {
  return OFF_ARGS + 8 * index + (half === 'hi' ? 4 : 0);
}

/** How a word offset reads: `nr`, `arch`, `args[2].hi`. */
export function dataWordName(offset: number): string {
  if (offset === OFF_NR) return 'nr';
  if (offset === OFF_ARCH) return 'arch';
  if (offset === OFF_IP) return 'ip.lo';
  if (offset === OFF_IP + 4) return 'ip.hi';
  if (offset >= OFF_ARGS && offset < SECCOMP_DATA_SIZE && offset % 4 === 0) {
    const i = Math.floor((offset - OFF_ARGS) / 8);
    return `args[${i}].${(offset - OFF_ARGS) % 8 === 0 ? 'lo' : 'hi'}`;
  }
  return `[${offset}]`;
}

/** A system call as a filter sees it. */
export interface SeccompData {
  nr: number;
  /** AUDIT_ARCH_* of the calling ABI. */
  arch: number;
  ip?: bigint;
  /** Up to six arguments, each a 64-bit register value. */
  args?: ReadonlyArray<bigint | number>;
}

/** The 64 bytes the kernel hands the filter, little-endian. */
export function encodeSeccompData(d: SeccompData): DataView {
  const v = new DataView(new ArrayBuffer(SECCOMP_DATA_SIZE));
  v.setUint32(OFF_NR, d.nr >>> 0, true);
  v.setUint32(OFF_ARCH, d.arch >>> 0, true);
  v.setBigUint64(OFF_IP, BigInt.asUintN(64, d.ip ?? 0n), true);
  for (let i = 0; i < 6; i++) v.setBigUint64(OFF_ARGS + 8 * i, BigInt.asUintN(64, BigInt(d.args?.[i] ?? 0)), true);
  return v;
}
