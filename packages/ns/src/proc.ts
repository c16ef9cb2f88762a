// What lsns(8) shows about a process besides its namespaces: its command
// line, its parent and its owner — read from /proc/PID (proc(5)).
import { readdirSync, readFileSync, statSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  /** The parent's pid (field 4 of /proc/PID/stat). */
  ppid: number;
  /** The owner of /proc/PID: the process's effective uid (root when it is not dumpable). */
  uid: number;
  /** The command line with spaces between arguments; the name in `comm` for kernel threads. */
  command: string;
}

const read = (path: string): string | null => {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
};

/** Null when the process has gone. */
export function processInfo(pid: number): ProcessInfo | null {
  let uid: number;
  try {
    uid = statSync(`/proc/${pid}`).uid;
  } catch {
    return null;
  }
  const stat = read(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // proc(5): "pid (comm) state ppid …" — comm may hold spaces and ')'.
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  const cmdline = read(`/proc/${pid}/cmdline`) ?? '';
  let command = Buffer.from(cmdline, 'latin1').toString('utf8').replace(/\0/g, ' ').trimEnd();
  if (command === '') command = (read(`/proc/${pid}/comm`) ?? '').trimEnd();
  return { pid, ppid, uid, command };
}

/** Numbered entries of /proc: every process (threads are not listed there). */
export function allPids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
}

let names: Map<number, string> | undefined;

/** uid → login name from /etc/passwd; the number itself when none. */
export function userName(uid: number): string {
  names ??= new Map(
    (read('/etc/passwd') ?? '').split('\n').filter(Boolean).map((l) => l.split(':')).filter((f) => f.length > 2).map((f) => [Number(f[2]), f[0]!] as const).reverse(),
  );
  return names.get(uid) ?? String(uid);
}
