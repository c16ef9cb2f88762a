// "Nothing is left behind": snapshots of what a test could leak on the host
// (mounts, children, fds, files under a directory), compared before and after.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export interface HostState {
  mounts: string[];
  children: number[];
  fds: string[];
}

/** Mount points of this process's mount namespace. */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').map((l) => l.split(' ')[4]!).sort();
}

/** Children of any thread of this process (zombies included). */
export function childrenOfThisProcess(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) =>
    readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}

/** Pids of other processes whose command line (arguments joined by spaces) contains `needle`. */
export function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').includes(needle)) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

/** The fds this process has open. */
export function openFds(): string[] {
  return readdirSync('/proc/self/fd').sort((a, b) => Number(a) - Number(b));
}

export function hostState(): HostState {
  return { mounts: mountPoints(), children: childrenOfThisProcess(), fds: openFds() };
}

/** What appeared since `before` (mounts, children, fds); empty lists mean nothing leaked. */
export function leftSince(before: HostState): HostState {
  const now = hostState();
  const extra = <T>(a: T[], b: T[]) => { const s = new Set(b); return a.filter((x) => !s.has(x)); };
  return { mounts: extra(now.mounts, before.mounts), children: now.children, fds: extra(now.fds, before.fds) };
}

/** Paths under `dir` (one level), [] when it does not exist. */
export function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}
