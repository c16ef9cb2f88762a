// Which precompiled program of the default profile fits a container
// (default-filter.ts; scripts/gen-default-filter.ts makes one per key).
import type { Arch } from './arch.ts';
import { kernelAtLeast } from './profile/resolve.ts';

/**
 * What of the inputs a profile's rules depend on, as a key: the
 * architecture, which of the capabilities its includes/excludes name are
 * held, and which of its minKernel versions the kernel reaches.
 */
export function precompiledKey(arch: Arch, capabilities: readonly string[], kernel: string, mentionedCaps: readonly string[], minKernels: readonly string[]): string {
  const held = mentionedCaps.filter((c) => capabilities.includes(c));
  return `${arch}|${held.join(',')}|${minKernels.map((k) => (kernelAtLeast(kernel, k) ? 1 : 0)).join('')}`;
}
