// What both benches share: timing, statistics, temporary directories and a
// check that no cgroup is left behind by any runtime (ours or theirs).
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Integer-ish milliseconds for the BENCH line: two decimals below 10, one below 100. */
export const fmt = (x: number): string => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));

/** Temporary directories, removed at exit (also when a step throws). */
const dirs: string[] = [];
process.once('exit', () => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
export function tempDir(prefix: string): string {
  const d = mkdtempSync(`/tmp/${prefix}-`);
  dirs.push(d);
  return d;
}

/** Wall ms of one run of argv to completion; throws with its output unless it exits 0. */
export function timeOnce(argv: readonly string[], opts: SpawnSyncOptions = {}): number {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status ?? r.signal}\n${String(r.stderr ?? '')}`);
  return ms;
}

/** Runs `make(i)` `count` times, at most `parallel` at once, each to completion; resolves with the elapsed ms. */
export async function pool(count: number, parallel: number, make: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < count) await make(next++);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return performance.now() - t0;
}

/** `argv` to completion as a promise (for a driver spawned from the main thread). */
export function runAsync(argv: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
    p.once('error', reject);
    p.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')}: exit ${code ?? signal}\n${err}`))));
  });
}

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Every cgroup directory (two levels down) of every hierarchy, as "hierarchy/path". */
export function cgroupDirs(): Set<string> {
  const out = new Set<string>();
  const walk = (base: string, rel: string, depth: number) => {
    let names: string[] = [];
    try { names = readdirSync(join(base, rel)); } catch { return; }
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      try { if (!statSync(join(base, r)).isDirectory()) continue; } catch { continue; }
      out.add(`${base}/${r}`);
      if (depth > 1) walk(base, r, depth - 1);
    }
  };
  if (!existsSync(CGROUP_ROOT)) return out;
  const top = readdirSync(CGROUP_ROOT).map((h) => join(CGROUP_ROOT, h));
  const hierarchies = existsSync(join(CGROUP_ROOT, 'cgroup.procs')) ? [CGROUP_ROOT] : top;
  for (const h of hierarchies) walk(h, '', 3);
  return out;
}

/**
 * The cgroups that appeared since `before` and whose path contains one of
 * `marks` (the ids this bench gave its containers): removed, deepest first,
 * and returned, so the bench can say a runtime left them.
 */
export function removeNewCgroups(before: Set<string>, marks: readonly string[]): string[] {
  const left = [...cgroupDirs()].filter((d) => !before.has(d) && marks.some((m) => d.includes(m)));
  for (const d of left.sort((a, b) => b.length - a.length)) {
    try { rmdirSync(d); } catch { /* busy or gone: reported anyway */ }
  }
  return left;
}
