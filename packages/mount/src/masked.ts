// Masked and read-only paths: the parts of /proc and /sys that tell about,
// or change, the whole machine rather than the container. The lists are
// runc's defaults (and Docker's). These steps run inside the child's mount
// namespace after pivot_root, on its own /proc and /sys, before execve.
import { existsSync, statSync } from 'node:fs';
import { MS } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';
import { planBind } from './bind.ts';

/** Hidden: kernel memory, key and timer lists, firmware, hardware details. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

/** Readable but not writable: sysctls, IRQ affinity, bus and filesystem knobs, SysRq. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** What the child will find at a path: decides how it is masked. */
export type PathKind = 'file' | 'directory';

/**
 * Guesses a path's kind from this process's view. /proc and /sys show the
 * same kernel inside and out, so the host's entries answer for them; a
 * missing path is taken for a file (its step then finds ENOENT, which is fine).
 */
export function hostKind(path: string): PathKind {
  return existsSync(path) && statSync(path).isDirectory() ? 'directory' : 'file';
}

/**
 * Masks each path: a file gets /dev/null bound over it (reads are empty,
 * writes vanish), a directory an empty read-only tmpfs. A path that does not
 * exist (the kernel lacks the feature) is fine: ENOENT is tolerated.
 * Needs /dev/null in the child's tree.
 */
export function planMaskedPaths(plan: Plan, paths: readonly string[], kindOf: (path: string) => PathKind = hostKind): void {
  for (const path of paths) {
    if (kindOf(path) === 'directory') {
      plan.mount('tmpfs', path, 'tmpfs', MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, null, { label: `mask ${path}: an empty read-only tmpfs over it`, tolerate: 'ENOENT' });
    } else {
      plan.mount('/dev/null', path, null, MS.BIND, null, { label: `mask ${path}: bind /dev/null over it`, tolerate: 'ENOENT' });
    }
  }
}

/** The flags of the child's own proc and sysfs mounts, which a read-only remount of a part of them keeps. */
export const PROC_FLAGS = MS.NOSUID | MS.NODEV | MS.NOEXEC;

/**
 * Makes each path read-only: a bind of the path onto itself (a mount of its
 * own), then a read-only remount of that bind (mount(2) ignores MS_RDONLY
 * when making a bind). `keep(path)` gives the per-mount flags to repeat
 * (default: those of the child's proc). A missing path is fine.
 */
export function planReadonlyPaths(plan: Plan, paths: readonly string[], keep: (path: string) => number = () => PROC_FLAGS): void {
  for (const path of paths) planBind(plan, { source: path, target: path, recursive: true, readonly: true, keep: keep(path), optional: true });
}
