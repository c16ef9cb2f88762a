// Choosing one manifest out of a multi-platform image. OCI image-spec,
// image-index.md: each entry's `platform` has `os` and `architecture` with
// Go's GOOS/GOARCH values, and an optional CPU `variant` ("v7" for arm,
// "v8" for arm64).
import { endianness } from 'node:os';
import { NoMatchingPlatformError, type Platform } from './errors.ts';
import type { Descriptor } from './manifest.ts';

/** process.arch → GOARCH, the names image indexes use. */
const GOARCH: Readonly<Record<string, string>> = {
  x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x',
  riscv64: 'riscv64', loong64: 'loong64', mips: 'mips', mipsel: 'mipsle', ppc: 'ppc',
};

/** The platform this process runs on: linux/amd64, linux/arm64/v8, linux/arm/v7. */
export function hostPlatform(): Platform {
  const arch = process.arch === 'ppc64' ? (endianness() === 'LE' ? 'ppc64le' : 'ppc64') : GOARCH[process.arch] ?? process.arch;
  if (arch === 'arm64') return { os: 'linux', architecture: arch, variant: 'v8' };
  if (arch === 'arm') {
    const v = (process.config.variables as Record<string, unknown>).arm_version;
    return { os: 'linux', architecture: arch, variant: `v${typeof v === 'string' || typeof v === 'number' ? v : 7}` };
  }
  return { os: 'linux', architecture: arch };
}

/** An absent variant means the architecture's baseline (containerd's normalization). */
function variantOf(p: Platform): string {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  if (p.architecture === 'arm') return 'v7';
  if (p.architecture === 'amd64') return 'v1';
  return '';
}

/**
 * The entry of `manifests` to pull for `wanted`. Same os and architecture;
 * if `wanted` has a variant, the same variant; without one, the baseline
 * variant is preferred, then any. Entries without a platform (attestations,
 * signatures) never match. Throws NoMatchingPlatformError with what is on offer.
 */
export function selectPlatform(manifests: readonly Descriptor[], wanted: Platform, reference: string): Descriptor {
  const same = manifests.filter((d) => d.platform && d.platform.os === wanted.os && d.platform.architecture === wanted.architecture);
  const exact = same.find((d) => variantOf(d.platform!) === variantOf(wanted));
  const chosen = exact ?? (wanted.variant ? undefined : same[0]);
  if (chosen) return chosen;
  const offered = manifests.flatMap((d) => d.platform && d.platform.os !== 'unknown' ? [d.platform] : []);
  throw new NoMatchingPlatformError(reference, wanted, offered.map((p) => p.variant ? { os: p.os, architecture: p.architecture, variant: p.variant } : { os: p.os, architecture: p.architecture }));
}
