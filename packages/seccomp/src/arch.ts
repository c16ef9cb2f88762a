// Which ABI made a system call. seccomp_data.arch holds an AUDIT_ARCH_*
// value (linux/audit.h: the ELF machine | 64-bit | little-endian bits), and
// the same number means different calls on different ABIs — so a filter
// must check the arch before it looks at the number.
//
// We compile for x86_64 and aarch64. Everything else is a foreign ABI and
// is killed: i386 (int 0x80 from a 64-bit process has AUDIT_ARCH_I386) and
// x32, which shares AUDIT_ARCH_X86_64 but sets __X32_SYSCALL_BIT in the
// number (asm/unistd.h).
import type { Arch } from '@nsk/syscall';
import { X86_64_SYSCALLS } from './tables/x86_64.ts';
import { AARCH64_SYSCALLS } from './tables/aarch64.ts';
import { I386_SYSCALLS } from './tables/i386.ts';
import { X32_SYSCALLS } from './tables/x32.ts';

export type { Arch };
/** Every ABI we know the calls of: the two we compile for, and the two we refuse. */
export type Abi = Arch | 'i386' | 'x32';

export const AUDIT_ARCH = {
  x86_64: 0xc000003e,
  aarch64: 0xc00000b7,
  i386: 0x40000003,
  arm: 0x40000028,
} as const;

/** asm/unistd.h: x32 calls are x86_64 calls with this bit set in nr. */
export const X32_SYSCALL_BIT = 0x40000000;

const TABLES: Record<Abi, Readonly<Record<string, number>>> = {
  x86_64: X86_64_SYSCALLS,
  aarch64: AARCH64_SYSCALLS,
  i386: I386_SYSCALLS,
  x32: X32_SYSCALLS,
};

const REVERSE = new Map<Abi, Map<number, string>>();

/** The name → number table of `abi`. */
export function syscallTable(abi: Abi): Readonly<Record<string, number>> {
  return TABLES[abi];
}

/** `syscallNumber('mkdirat', 'aarch64')` → 34; undefined where the ABI lacks it (`mkdir` on aarch64). */
export function syscallNumber(name: string, abi: Abi): number | undefined {
  return Object.hasOwn(TABLES[abi], name) ? TABLES[abi][name] : undefined;
}

/** `syscallName(83, 'x86_64')` → 'mkdir'. */
export function syscallName(nr: number, abi: Abi): string | undefined {
  let m = REVERSE.get(abi);
  if (!m) REVERSE.set(abi, (m = new Map(Object.entries(TABLES[abi]).map(([k, v]) => [v, k]))));
  return m.get(nr);
}

/** True when some ABI we know has a call of this name. */
export function isKnownSyscall(name: string): boolean {
  return (Object.keys(TABLES) as Abi[]).some((abi) => Object.hasOwn(TABLES[abi], name));
}

/** The highest number in the table of `arch`: calls above it are newer than our headers. */
export function maxSyscall(arch: Arch): number {
  return Math.max(...Object.values(TABLES[arch]));
}

/** libseccomp's architecture names (SCMP_ARCH_*), as OCI and Docker profiles spell them. */
export const SCMP_ARCHES = [
  'SCMP_ARCH_NATIVE', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
] as const;

/** The SCMP_ARCH_* names we compile a section for. */
export const SCMP_TO_ARCH: Readonly<Record<string, Arch>> = { SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_AARCH64: 'aarch64' };

/** Docker's includes/excludes name architectures as Go does (runtime.GOARCH); we accept both spellings. */
export function matchesArch(name: string, arch: Arch): boolean {
  return arch === 'x86_64' ? name === 'amd64' || name === 'x86_64' : name === 'arm64' || name === 'aarch64';
}
