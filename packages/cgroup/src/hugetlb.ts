// Huge page limits: the hugetlb controller counts the huge pages a group's
// tasks fault in, per page size (Documentation/admin-guide/cgroup-v1/
// hugetlb.rst, cgroup-v2.rst "HugeTLB"). Its files are named after the
// size the kernel prints — hugetlb.2MB.max, hugetlb.1GB.limit_in_bytes —
// and exist only for the sizes this host's CPU and kernel offer, the
// directories of /sys/kernel/mm/hugepages (hugepages-2048kB, …).
import { readdirSync } from 'node:fs';
import { ValidationError } from '@nsk/syscall';

/**
 * Bytes of huge pages a group may use, per page size: `{ '2MB': 64 << 20 }`.
 * Past it, mmap(2) fails with ENOMEM where the kernel has rsvd limits
 * (5.7); a fault past it — or of a MAP_NORESERVE mapping — is SIGBUS (the
 * kernel cannot fail a page fault). 0 forbids that size, `Infinity` lifts
 * the limit.
 */
export type HugetlbLimits = Record<string, number>;

/**
 * The kernel's name of a page size of `kb` KiB (mm/hugetlb_cgroup.c,
 * mem_fmt): 2048 → `2MB`, 1048576 → `1GB`, 64 → `64KB`.
 */
export function pageSizeName(kb: number): string {
  if (kb >= 1 << 20) return `${kb >> 20}GB`;
  if (kb >= 1 << 10) return `${kb >> 10}MB`;
  return `${kb}KB`;
}

/** The huge page sizes this host offers, by the kernel's name: `['1GB', '2MB']`. None without hugetlbfs support. */
export function hugePageSizes(sysfs = '/sys/kernel/mm/hugepages'): string[] {
  let names: string[];
  try { names = readdirSync(sysfs); } catch { return []; }
  return names.map((n) => /^hugepages-(\d+)kB$/.exec(n)).filter((m) => m !== null).map((m) => pageSizeName(Number(m[1]))).sort();
}

/** Why `size` cannot be limited on this host, or null when it can. */
export function pageSizeProblem(size: string, sizes: readonly string[] = hugePageSizes()): string | null {
  if (sizes.includes(size)) return null;
  return sizes.length ? `this host has no ${JSON.stringify(size)} huge pages (it has ${sizes.join(', ')})` : 'this host offers no huge pages (no /sys/kernel/mm/hugepages)';
}

/** Checks the page sizes against the host and the byte counts; throws a ValidationError naming the size. */
export function validateHugetlb(limits: HugetlbLimits, sizes: readonly string[] = hugePageSizes()): void {
  for (const [size, bytes] of Object.entries(limits)) {
    const field = `limits.hugetlb.${size}`;
    const problem = pageSizeProblem(size, sizes);
    if (problem) throw new ValidationError(field, problem);
    if (bytes !== Infinity && (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0)) throw new ValidationError(field, `must be a number of bytes ≥ 0 (Infinity: no limit), got ${JSON.stringify(bytes)}`);
  }
}
