// The trampoline's machine code, copied once per process into a page that is
// then made read+execute (never writable and executable at once).
import { Arena, PROT, hostArch, mprotect, type Arch } from '@nsk/syscall';
import { X86_64_TRAMPOLINE_HEX } from './x86_64.ts';
import { AARCH64_TRAMPOLINE_HEX } from './aarch64.ts';

const HEX: Record<Arch, string> = { x86_64: X86_64_TRAMPOLINE_HEX, aarch64: AARCH64_TRAMPOLINE_HEX };

/** The trampoline's bytes for `arch`. */
export function trampolineBytes(arch: Arch = hostArch): Uint8Array {
  return Uint8Array.from(Buffer.from(HEX[arch], 'hex'));
}

let loaded: bigint | undefined;

/** The address of the executable trampoline in this process (loaded on first use). */
export function trampolineAddress(): bigint {
  if (loaded === undefined) {
    const page = Arena.map(4096);
    page.bytes.set(trampolineBytes());
    mprotect(page.address, page.size, PROT.READ | PROT.EXEC);
    loaded = page.address;
  }
  return loaded;
}
