import { AARCH64_SYSCALLS, X86_64_SYSCALLS, type SyscallName } from './sysno-table.ts';

/** The architectures nsk runs on, named as the kernel names them (uname -m). */
export type Arch = 'x86_64' | 'aarch64';

function detect(): Arch {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new Error(`nsk supports x86_64 and aarch64, not ${process.arch}`);
}

/** The architecture of this process. */
export const hostArch: Arch = detect();

const TABLES: Record<Arch, Readonly<Record<SyscallName, number>>> = {
  x86_64: X86_64_SYSCALLS,
  aarch64: AARCH64_SYSCALLS,
};

/** `sysno('mount')` → 165 on x86_64, 40 on aarch64. */
export function sysno(name: SyscallName, arch: Arch = hostArch): number {
  return TABLES[arch][name];
}

/** The syscall number → name table for `arch` (for printing plans). */
export function syscallNames(arch: Arch = hostArch): ReadonlyMap<number, SyscallName> {
  return new Map(Object.entries(TABLES[arch]).map(([k, v]) => [v, k as SyscallName]));
}

/**
 * open(2) flags whose values differ between x86_64 and aarch64 (aarch64 takes
 * them from asm-generic/fcntl.h; x86 keeps the historical i386 values).
 */
export const O_ARCH: Record<Arch, { DIRECTORY: number; NOFOLLOW: number; DIRECT: number; LARGEFILE: number }> = {
  x86_64: { DIRECTORY: 0o200000, NOFOLLOW: 0o400000, DIRECT: 0o40000, LARGEFILE: 0 },
  aarch64: { DIRECTORY: 0o40000, NOFOLLOW: 0o100000, DIRECT: 0o200000, LARGEFILE: 0o400000 },
};
