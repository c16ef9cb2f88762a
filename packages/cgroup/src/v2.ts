// The cgroup v2 driver: one unified hierarchy (cgroups(7), "Cgroups version
// 2"; Documentation/admin-guide/cgroup-v2.rst). A controller reaches a group
// only if every ancestor lists it in cgroup.subtree_control, and a
// non-root group with controllers enabled for children may hold no
// processes itself ("no internal processes").
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SIG, SyscallError, kill } from '@nsk/syscall';
import { descendants, levels, makeCgroupDir, procsOf, readCgroupFile, removeCgroupDir, tryReadCgroupFile, writeCgroupFile } from './cgroupfs.ts';
import { CgroupTimeoutError, CgroupUnavailableError } from './errors.ts';
import { parseKeyed, v2Stats, type CgroupStats, type FileWrite } from './format.ts';
import { pollUntil } from './wait.ts';

/** Controllers a group gets when its parent offers them, so that its stats are there even without limits. */
export const V2_FOR_STATS = ['cpu', 'memory', 'pids'] as const;

const words = (text: string | null) => (text ?? '').trim().split(/\s+/).filter(Boolean);

/** `cgroup.events` (populated, frozen), or null when the group is gone. */
export function readEvents(dir: string): Record<string, number> | null {
  const text = tryReadCgroupFile(join(dir, 'cgroup.events'));
  return text === null ? null : parseKeyed(text);
}

/**
 * Enables `controllers` for the children of every level from the root down
 * to `rel`'s parent: `echo +cpu > cgroup.subtree_control` (cgroup-v2.rst,
 * "Enabling and Disabling"). Those in `required` must succeed; the others
 * are enabled where the kernel allows, and skipped where it does not.
 * Returns the controllers the group at `rel` will have.
 */
export function enableControllers(root: string, rel: string, required: readonly string[], optional: readonly string[] = []): string[] {
  const parentLevels = ['', ...levels(rel).slice(0, -1)];
  let reach = new Set([...required, ...optional]);
  for (const level of parentLevels) {
    const dir = join(root, level);
    const available = new Set(words(readCgroupFile(join(dir, 'cgroup.controllers'))));
    const enabled = new Set(words(readCgroupFile(join(dir, 'cgroup.subtree_control'))));
    const next = new Set<string>();
    for (const c of reach) {
      if (enabled.has(c)) { next.add(c); continue; }
      if (!available.has(c)) {
        if (required.includes(c)) throw new CgroupUnavailableError(c, `the ${c} controller is not available in ${dir} (its cgroup.controllers lists: ${[...available].join(' ') || 'nothing'})`);
        continue;
      }
      try {
        writeCgroupFile(join(dir, 'cgroup.subtree_control'), `+${c}`, `enable the ${c} controller for the children of ${dir}`);
        next.add(c);
      } catch (err) {
        if (required.includes(c)) throw err;
      }
    }
    reach = next;
  }
  return [...reach];
}

export class V2Group {
  readonly version = 2 as const;
  /** The cgroup2 mount point. */
  readonly root: string;
  /** The group's path relative to it. */
  readonly rel: string;
  readonly dir: string;
  readonly #made: string[] = [];

  constructor(root: string, rel: string) {
    this.root = root;
    this.rel = rel;
    this.dir = join(root, rel);
  }

  /**
   * Makes the parents that are missing, enables the controllers for them
   * top-down, then makes the group itself. Returns the group's controllers.
   */
  create(required: readonly string[], optional: readonly string[] = V2_FOR_STATS): string[] {
    const all = levels(this.rel);
    for (const level of all.slice(0, -1)) {
      if (makeCgroupDir(join(this.root, level), `create cgroup ${level}`)) this.#made.push(join(this.root, level));
    }
    const controllers = enableControllers(this.root, this.rel, required, optional);
    if (makeCgroupDir(this.dir, `create cgroup ${this.rel}`)) this.#made.push(this.dir);
    return controllers;
  }

  /** Enables `controllers` for this group after it was made (each ancestor's cgroup.subtree_control). */
  enable(controllers: readonly string[]): void {
    enableControllers(this.root, this.rel, controllers);
  }

  /** The controllers enabled for this group (its cgroup.controllers). */
  controllers(): string[] {
    return words(tryReadCgroupFile(join(this.dir, 'cgroup.controllers')));
  }

  write(w: FileWrite): void {
    if (w.optional && !existsSync(join(this.dir, w.file))) return;
    if (w.fallback && tryReadCgroupFile(join(this.dir, w.file)) === null && tryReadCgroupFile(join(this.dir, w.fallback.file)) !== null) {
      writeCgroupFile(join(this.dir, w.fallback.file), w.fallback.value, `set ${w.fallback.file} to ${w.fallback.value}`);
      return;
    }
    writeCgroupFile(join(this.dir, w.file), w.value, `set ${w.file} to ${w.value}`);
  }

  attach(pid: number): void {
    writeCgroupFile(join(this.dir, 'cgroup.procs'), String(pid), `attach pid ${pid} to ${this.dir}`);
  }

  /** cgroup.events `populated`: 1 while the group or a descendant holds a live process. */
  populated(): boolean {
    return (readEvents(this.dir)?.populated ?? 0) === 1;
  }

  procs(): number[] {
    const all = [this.dir, ...descendants(this.dir)].flatMap(procsOf);
    return [...new Set(all)].sort((a, b) => a - b);
  }

  frozen(): boolean {
    return (readEvents(this.dir)?.frozen ?? 0) === 1;
  }

  /** cgroup.freeze ← 1; done when cgroup.events reads `frozen 1`. */
  async freeze(timeoutMs: number): Promise<void> {
    writeCgroupFile(join(this.dir, 'cgroup.freeze'), '1', 'freeze the group');
    if (!(await pollUntil(() => this.frozen(), timeoutMs))) throw new CgroupTimeoutError(this.dir, 'freezing', timeoutMs);
  }

  async thaw(timeoutMs: number): Promise<void> {
    writeCgroupFile(join(this.dir, 'cgroup.freeze'), '0', 'thaw the group');
    if (!(await pollUntil(() => !this.frozen(), timeoutMs))) throw new CgroupTimeoutError(this.dir, 'thawing', timeoutMs);
  }

  /**
   * cgroup.kill ← 1 (Linux 5.14): the kernel sends SIGKILL to every process
   * of the group and its descendants, forks racing with it included. Done
   * when cgroup.events reads `populated 0`. Older kernels: freeze, SIGKILL
   * every pid, thaw.
   */
  async kill(timeoutMs: number): Promise<void> {
    if (!this.populated()) return;
    try {
      writeCgroupFile(join(this.dir, 'cgroup.kill'), '1', 'kill every process in the group');
    } catch (err) {
      if (!(err instanceof SyscallError && err.errno === 'ENOENT')) throw err;
      await this.freeze(Math.min(timeoutMs, 1000)).catch(() => {});
      for (const pid of this.procs()) {
        try { kill(pid, SIG.KILL); } catch (e) { if (!(e instanceof SyscallError && e.errno === 'ESRCH')) throw e; }
      }
      await this.thaw(timeoutMs).catch(() => {});
    }
    if (!(await pollUntil(() => !this.populated(), timeoutMs))) throw new CgroupTimeoutError(this.dir, 'emptying the group', timeoutMs, `still holds ${this.procs().join(' ')}`);
  }

  async remove(timeoutMs: number): Promise<void> {
    if (!(await pollUntil(() => !this.populated(), timeoutMs))) {
      throw new CgroupTimeoutError(this.dir, 'the group emptying before removal', timeoutMs, `still holds ${this.procs().join(' ')}`);
    }
    const targets = [...descendants(this.dir), this.dir];
    if (!(await pollUntil(() => targets.every((d) => removeCgroupDir(d) !== 'busy'), timeoutMs))) {
      throw new CgroupTimeoutError(this.dir, 'removal', timeoutMs, 'rmdir kept answering EBUSY');
    }
    for (const dir of [...this.#made].reverse()) if (!targets.includes(dir)) removeCgroupDir(dir);
  }

  /** rmdir(2) of the group at once (see V1Group.removeNow); false, and nothing removed, while it holds a process or a child group. */
  removeNow(): boolean {
    if (removeCgroupDir(this.dir) === 'busy') return false;
    for (const dir of [...this.#made].reverse()) if (dir !== this.dir) removeCgroupDir(dir);
    return true;
  }

  rollback(): void {
    for (const dir of [...this.#made].reverse()) removeCgroupDir(dir);
  }

  stats(): CgroupStats {
    const at = (file: string) => tryReadCgroupFile(join(this.dir, file));
    return v2Stats({
      cpuStat: at('cpu.stat'),
      memoryCurrent: at('memory.current'),
      memoryPeak: at('memory.peak'),
      memoryEvents: at('memory.events'),
      pidsCurrent: at('pids.current'),
      pidsPeak: at('pids.peak'),
      pidsEvents: at('pids.events'),
    });
  }
}
