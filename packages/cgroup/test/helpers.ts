// Shared by the tests: what a group looks like from outside, and checks
// that no cgroup directory of this test process is left in any hierarchy.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type Child, type SpawnOptions } from '@nsk/clone';
import { detectLayout, type Cgroup } from '../src/index.ts';

/** Every hierarchy's mount point: each v1 hierarchy and the cgroup2 mount. */
export function hierarchyRoots(): string[] {
  const layout = detectLayout();
  return [...layout.v1.map((h) => h.mountPoint), ...(layout.v2 ? [layout.v2.mountPoint] : [])];
}

/** Directories anywhere in any hierarchy whose name contains `marker` (default: this process's groups). */
export function leftoverGroups(marker = `nsk-${process.pid}-`): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 4) return;
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return;
    }
    for (const n of names) {
      if (n.includes(marker)) found.push(join(dir, n));
      else walk(join(dir, n), depth + 1);
    }
  };
  for (const root of hierarchyRoots()) walk(root, 0);
  return found.sort();
}

/** The path of `pid` in each hierarchy, keyed `cpu`, `memory`, … and `''` for v2. */
export function cgroupsOf(pid: number | 'self'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, ctl = '', path = ''] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    out[ctl] = path;
  }
  return out;
}

export const exists = (p: string) => existsSync(p);
export const read = (p: string) => readFileSync(p, 'utf8').trim();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The `State:` letter of /proc/PID/status, or null once it is gone. */
export function procState(pid: number): string | null {
  try {
    return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** True while /proc/PID exists and is not a zombie. */
export function alive(pid: number): boolean {
  const s = procState(pid);
  return s !== null && s !== 'Z' && s !== 'X';
}

/**
 * Starts `argv` already inside `g`: the pid is written into the group while
 * the child waits at its first plan step, so not one of its forks can
 * happen outside the group (a test that attached after exec once let a
 * fork bomb loose on the host).
 */
export function spawnIn(g: Cgroup, argv: string[], options: Omit<SpawnOptions, 'argv'> = {}): Promise<Child> {
  return spawn({ stdio: [null, null, null], ...options, argv, features: [{ name: 'attach', parent: ({ pid }) => g.attach(pid) }, ...(options.features ?? [])] });
}
