// e_machine numbers (elf(5), <elf.h>) as names, and the Debian multiarch
// triplet whose /lib/<triplet> and /usr/lib/<triplet> ld.so(8) searches by
// default for that machine.
import type { ElfClass, ElfEndian } from './elf.ts';

const NAMES: Record<number, string> = {
  3: 'i386',
  8: 'mips',
  20: 'powerpc',
  21: 'powerpc64',
  22: 's390',
  40: 'arm',
  43: 'sparc64',
  50: 'ia64',
  62: 'x86_64',
  183: 'aarch64',
  243: 'riscv',
  258: 'loongarch',
};

/** `62` → `'x86_64'`; the class and byte order refine a few (`'powerpc64le'`, `'s390x'`, `'riscv64'`). */
export function machineName(machine: number, klass: ElfClass, endian: ElfEndian): string {
  const name = NAMES[machine];
  if (name === undefined) return `EM_${machine}`;
  if (name === 'powerpc64' && endian === 'little') return 'powerpc64le';
  if (name === 's390' && klass === 64) return 's390x';
  if (name === 'riscv' || name === 'loongarch') return `${name}${klass}`;
  if (name === 'mips' && klass === 64) return endian === 'little' ? 'mips64el' : 'mips64';
  if (name === 'mips' && endian === 'little') return 'mipsel';
  return name;
}

/**
 * The Debian multiarch triplet for an ELF's class, machine and byte order
 * (`x86_64-linux-gnu`), or null when Debian has none. ELF32 on x86_64 is x32.
 */
export function multiarchTriplet(arch: string, klass: ElfClass): string | null {
  switch (arch) {
    case 'x86_64': return klass === 64 ? 'x86_64-linux-gnu' : 'x86_64-linux-gnux32';
    case 'i386': return 'i386-linux-gnu';
    case 'aarch64': return 'aarch64-linux-gnu';
    case 'arm': return 'arm-linux-gnueabihf';
    case 'powerpc64le': return 'powerpc64le-linux-gnu';
    case 'powerpc64': return 'powerpc64-linux-gnu';
    case 'powerpc': return 'powerpc-linux-gnu';
    case 's390x': return 's390x-linux-gnu';
    case 'riscv64': return 'riscv64-linux-gnu';
    case 'loongarch64': return 'loongarch64-linux-gnu';
    case 'mips64el': return 'mips64el-linux-gnuabi64';
    case 'mipsel': return 'mipsel-linux-gnu';
    case 'mips': return 'mips-linux-gnu';
    case 'sparc64': return 'sparc64-linux-gnu';
    default: return null;
  }
}
