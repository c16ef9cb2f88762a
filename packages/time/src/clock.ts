// Reading the clocks a time namespace shifts: clock_gettime(2).
import { Arena, ValidationError, syscall } from '@nsk/syscall';

/** Clock ids (linux/time.h). */
export const CLOCK = { realtime: 0, monotonic: 1, boottime: 7 } as const;
export type ClockName = keyof typeof CLOCK;

export interface Timespec {
  /** Whole seconds (negative for a negative offset). */
  seconds: number;
  /** 0 to 999 999 999, added to `seconds`. */
  nanoseconds: number;
}

// syscall() passes numbers only, so the kernel writes into a page of our own.
let page: Arena | undefined;

/**
 * clock_gettime(2) of this process's time namespace (monotonic and boottime
 * carry its offsets; realtime is never shifted).
 */
export function clockGetTime(clock: ClockName): Timespec {
  const id = CLOCK[clock];
  if (id === undefined) throw new ValidationError('clock', `not one of ${Object.keys(CLOCK).join(', ')}: ${String(clock)}`);
  page ??= Arena.map(16);
  syscall('clock_gettime', id, page.address);
  const v = new DataView(page.bytes.buffer, page.bytes.byteOffset, 16);
  return { seconds: Number(v.getBigInt64(0, true)), nanoseconds: Number(v.getBigInt64(8, true)) };
}
