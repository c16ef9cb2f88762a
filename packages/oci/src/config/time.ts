// linux.timeOffsets (config-linux.md "Offset for Time Namespace"): for a
// new time namespace, `{ monotonic | boottime: { secs, nanosecs } }`, added
// to that clock inside (time_namespaces(7); CLOCK_REALTIME is never shifted).
import type { TimeOptions } from '@nsk/time';
import { bad, integer, known, object, optObject, type Json } from './json.ts';

const CLOCKS = ['monotonic', 'boottime'] as const;

/** null when absent; throws naming the path when malformed. */
export function checkTimeOffsets(v: unknown, freshTime: boolean): TimeOptions | null {
  const o: Json | undefined = optObject('linux.timeOffsets', v);
  if (o === undefined) return null;
  known('linux.timeOffsets', o, CLOCKS);
  if (!freshTime) bad('linux.timeOffsets', 'offsets are for a new time namespace (add { "type": "time" } to linux.namespaces)');
  const out: TimeOptions = {};
  for (const clock of CLOCKS) {
    if (o[clock] === undefined) continue;
    const f = `linux.timeOffsets.${clock}`;
    const c = object(f, o[clock]);
    known(f, c, ['secs', 'nanosecs']);
    const seconds = integer(`${f}.secs`, c.secs ?? 0);
    const nanoseconds = integer(`${f}.nanosecs`, c.nanosecs ?? 0, 0, 999_999_999);
    out[clock] = { seconds, nanoseconds };
  }
  return out;
}
