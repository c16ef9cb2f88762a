// time_namespaces(7): a time namespace's offsets against the initial one,
// as /proc/PID/timens_offsets reads and writes them.
import { readFileSync } from 'node:fs';
import { ValidationError } from '@nsk/syscall';
import { clockGetTime, type Timespec } from './clock.ts';

/** Seconds (fractions and negatives allowed), or whole seconds and nanoseconds. */
export type Offset = number | { seconds: number; nanoseconds?: number };

export interface TimeOffsets {
  monotonic: Timespec;
  boottime: Timespec;
}

const NS = 1e9;
// ktime_t is signed 64-bit nanoseconds: KTIME_SEC_MAX = 2^63 / 10^9. The
// kernel refuses with ERANGE an offset that would put the clock below 0 or
// above KTIME_SEC_MAX / 2 (measured: boottime -100 000 000 and
// +4 611 686 000 on an uptime of 1 800 s both fail).
const KTIME_SEC_MAX = 9_223_372_036;

/** An offset as the kernel takes it: whole seconds, then 0 ≤ nanoseconds < 10^9. */
export function toTimespec(field: string, offset: Offset): Timespec {
  if (typeof offset === 'number') {
    if (!Number.isFinite(offset)) throw new ValidationError(field, `not a finite number of seconds: ${offset}`);
    let seconds = Math.floor(offset);
    let nanoseconds = Math.round((offset - seconds) * NS);
    if (nanoseconds === NS) [seconds, nanoseconds] = [seconds + 1, 0];
    return { seconds, nanoseconds };
  }
  if (typeof offset !== 'object' || offset === null) throw new ValidationError(field, `not seconds or { seconds, nanoseconds }: ${String(offset)}`);
  const { seconds, nanoseconds = 0 } = offset;
  if (!Number.isSafeInteger(seconds)) throw new ValidationError(`${field}.seconds`, `not a whole number: ${seconds}`);
  if (!Number.isInteger(nanoseconds) || nanoseconds < 0 || nanoseconds >= NS) throw new ValidationError(`${field}.nanoseconds`, `not a whole number from 0 to 999999999: ${nanoseconds}`);
  return { seconds, nanoseconds };
}

/**
 * Throws a ValidationError unless the kernel will take `offset` for
 * `clock`. Checked against this process's clock now; clocks only grow, so a
 * clock kept from going negative now never will.
 */
export function checkOffset(clock: keyof TimeOffsets, offset: Offset): Timespec {
  const t = toTimespec(clock, offset);
  const now = clockGetTime(clock);
  const shifted = now.seconds + t.seconds + (now.nanoseconds + t.nanoseconds) / NS;
  if (Math.abs(t.seconds) > KTIME_SEC_MAX || shifted > KTIME_SEC_MAX / 2) throw new ValidationError(clock, `${t.seconds} s is beyond what the kernel can represent`);
  if (shifted < 0) throw new ValidationError(clock, `${t.seconds} s would make the clock negative (it reads ${now.seconds} s)`);
  return t;
}

/** The text /proc/PID/timens_offsets takes: one `clock seconds nanoseconds` line per clock. */
export function formatTimeOffsets(o: Partial<TimeOffsets>): string {
  return (['monotonic', 'boottime'] as const).filter((c) => o[c]).map((c) => `${c} ${o[c]!.seconds} ${o[c]!.nanoseconds}\n`).join('');
}

export function parseTimeOffsets(text: string): TimeOffsets {
  const o: TimeOffsets = { monotonic: { seconds: 0, nanoseconds: 0 }, boottime: { seconds: 0, nanoseconds: 0 } };
  for (const line of text.split('\n')) {
    const [clock, seconds, nanoseconds] = line.trim().split(/\s+/);
    if (clock === 'monotonic' || clock === 'boottime') o[clock] = { seconds: Number(seconds), nanoseconds: Number(nanoseconds) };
  }
  return o;
}

/**
 * The offsets of the time namespace `pid`'s children are in (ns/time_for_children):
 * after unshare(CLONE_NEWTIME) the new one, before anyone is in it.
 */
export function readTimeOffsets(pid: number | 'self' = 'self'): TimeOffsets {
  return parseTimeOffsets(readFileSync(`/proc/${pid}/timens_offsets`, 'utf8'));
}
