// time_namespaces(7): a time namespace shifts CLOCK_MONOTONIC and
// CLOCK_BOOTTIME (and /proc/uptime) by fixed offsets; CLOCK_REALTIME is
// shared with the host. A restored or migrated container keeps its clocks.
import { AT, CLONE, O } from '@nsk/syscall';
import type { Feature, Plan } from '@nsk/clone';
import { checkOffset, formatTimeOffsets, type Offset, type TimeOffsets } from './offsets.ts';

export interface TimeOptions {
  /** Added to CLOCK_MONOTONIC inside. Default 0. */
  monotonic?: Offset;
  /** Added to CLOCK_BOOTTIME and /proc/uptime inside. Default 0. */
  boottime?: Offset;
}

function check(o: TimeOptions): string {
  const t: Partial<TimeOffsets> = {};
  if (o.monotonic !== undefined) t.monotonic = checkOffset('monotonic', o.monotonic);
  if (o.boottime !== undefined) t.boottime = checkOffset('boottime', o.boottime);
  return formatTimeOffsets(t);
}

/**
 * Adds the steps that make a time namespace and set its offsets.
 *
 * - clone(2) cannot: CLONE_NEWTIME (0x80) lies in the byte it keeps for the
 *   exit signal. unshare(2) makes the namespace for the caller's children;
 *   execve(2) then moves the caller itself in (measured on Linux 6.18; the
 *   man page tells only of children).
 * - Offsets can be written only until a process is in the namespace, so
 *   before execve, and only with CAP_SYS_TIME in the user namespace that owns
 *   it: the one the child is in at unshare. Add these steps after any that
 *   make or enter a user namespace.
 */
export function planTime(plan: Plan, options: TimeOptions): void {
  const text = check(options);
  plan.unshare(CLONE.NEWTIME, { label: 'make a time namespace for what execve runs' });
  if (!text) return;
  const fd = plan.openat(AT.FDCWD, '/proc/self/timens_offsets', O.WRONLY, 0, { label: 'open the new time namespace’s offsets' });
  plan.write(fd, text, { label: 'set the clock offsets' });
  plan.close(fd);
}

/** A Feature: a new time namespace with clock offsets. Stands for `unshare --time --monotonic S --boottime S`. */
export function time(options: TimeOptions = {}): Feature {
  const o = { ...options };
  check(o);
  return { name: 'time', plan: (plan) => planTime(plan, o) };
}
