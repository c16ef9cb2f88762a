// Is a process still the one we recorded? A pid alone can be reused; the
// pair (pid, start time) cannot (proc(5): /proc/PID/stat field 22, in clock
// ticks since boot).
import { readFileSync } from 'node:fs';

export interface ProcessId {
  pid: number;
  start: number;
}

export function processStart(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count
    // fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}

export function processId(pid: number): ProcessId | null {
  const start = processStart(pid);
  return start === null ? null : { pid, start };
}

export function isAlive(p: ProcessId | null | undefined): boolean {
  return !!p && processStart(p.pid) === p.start;
}
