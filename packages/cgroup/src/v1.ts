// The cgroup v1 driver: one directory per hierarchy, each with the files of
// its own controllers (cgroups(7), "Cgroups version 1"). A group "exists"
// as the same relative path in every hierarchy we use, and a process is
// attached by writing its pid into each of them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SIG, SyscallError, kill } from '@nsk/syscall';
import { descendants, levels, makeCgroupDir, procsOf, readCgroupFile, removeCgroupDir, tryReadCgroupFile, writeCgroupFile } from './cgroupfs.ts';
import { CgroupTimeoutError, CgroupUnavailableError } from './errors.ts';
import { v1Stats, type CgroupStats, type FileWrite } from './format.ts';
import type { V1Hierarchy } from './layout.ts';
import { pollUntil } from './wait.ts';

/** The v1 controllers whose hierarchies a group is made in. */
export const V1_USED = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'blkio', 'hugetlb'] as const;

export interface V1Dir {
  readonly hierarchy: V1Hierarchy;
  /** The group's directory in that hierarchy. */
  readonly dir: string;
}

/** A v1 byte count as the kernel compares it: -1 is no limit, above any number. */
const bytes = (v: string) => (v.trim() === '-1' ? 1n << 63n : BigInt(v.trim()));

export class V1Group {
  readonly version = 1 as const;
  /** The group's path relative to each hierarchy's root: `nsk-1-1`. */
  readonly rel: string;
  readonly dirs: readonly V1Dir[];
  /** Directories this group made (parents included), in the order made. */
  readonly #made: string[] = [];

  constructor(hierarchies: readonly V1Hierarchy[], rel: string) {
    const used = hierarchies.filter((h) => h.controllers.some((c) => (V1_USED as readonly string[]).includes(c)));
    this.dirs = used.map((hierarchy) => ({ hierarchy, dir: join(hierarchy.mountPoint, rel) }));
    this.rel = rel;
  }

  /** The group's directory in the hierarchy of `controller`. */
  dirOf(controller: string): string | undefined {
    return this.dirs.find((d) => d.hierarchy.controllers.includes(controller))?.dir;
  }

  /**
   * mkdir(2) of every level in every hierarchy. cgroups(7), cpuset(7): a
   * new v1 cpuset starts with empty cpuset.cpus and cpuset.mems, and no task
   * may join it until both are set, so each new cpuset level copies its
   * parent's.
   */
  create(): void {
    for (const { hierarchy } of this.dirs) {
      for (const level of levels(this.rel)) {
        const dir = join(hierarchy.mountPoint, level);
        if (!makeCgroupDir(dir, `create cgroup ${level} in the ${hierarchy.controllers.join(',')} hierarchy`)) continue;
        this.#made.push(dir);
        if (hierarchy.controllers.includes('cpuset')) {
          for (const file of ['cpuset.cpus', 'cpuset.mems']) {
            if (readCgroupFile(join(dir, file)).trim() !== '') continue;
            const inherited = readCgroupFile(join(dir, '..', file)).trim();
            writeCgroupFile(join(dir, file), inherited, `copy ${file} from the parent cpuset`);
          }
        }
      }
    }
  }

  /** Writes one limit file in the hierarchy of its controller. */
  write(w: FileWrite): void {
    const dir = this.dirOf(w.controller);
    if (!dir) throw new CgroupUnavailableError(w.controller, `no v1 hierarchy carries the ${w.controller} controller`);
    const step = `set ${w.file} to ${w.value}`;
    if (w.optional && !existsSync(join(dir, w.file))) return;
    if (w.fallback && tryReadCgroupFile(join(dir, w.file)) === null) {
      if (tryReadCgroupFile(join(dir, w.fallback.file)) === null) {
        throw new CgroupUnavailableError(w.controller, `neither ${w.file} nor ${w.fallback.file} exists in ${dir} (for blkio weights the BFQ I/O scheduler must be built in or loaded)`);
      }
      writeCgroupFile(join(dir, w.fallback.file), w.fallback.value, `set ${w.fallback.file} to ${w.fallback.value}`);
      return;
    }
    writeCgroupFile(join(dir, w.file), w.value, step);
  }

  /**
   * The writes of a change to a live group, in an order the kernel takes.
   * memory.memsw.limit_in_bytes may never be below memory.limit_in_bytes
   * (EINVAL): v1Files writes the memory limit first, right for a new group
   * where both are unlimited; when the new limit is above the group's
   * current memory+swap, memory+swap has to be raised first. Lifting the
   * memory limit (-1) of a group whose memory+swap is limited lifts that
   * too, as runc's update does: no other value would be allowed.
   */
  liveOrder(writes: readonly FileWrite[]): FileWrite[] {
    const limit = writes.findIndex((w) => w.file === 'memory.limit_in_bytes');
    const dir = this.dirOf('memory');
    if (limit < 0 || !dir) return [...writes];
    const current = tryReadCgroupFile(join(dir, 'memory.memsw.limit_in_bytes'));
    if (current === null || bytes(writes[limit]!.value) <= BigInt(current.trim())) return [...writes];
    let memsw = writes.findIndex((w) => w.file === 'memory.memsw.limit_in_bytes');
    const out = [...writes];
    if (memsw < 0) {
      if (writes[limit]!.value !== '-1') return out; // the kernel's EINVAL names the rule
      out.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: '-1' });
      memsw = out.length - 1;
    }
    if (memsw < limit) return out;
    const [raise] = out.splice(memsw, 1);
    out.splice(limit, 0, raise!);
    return out;
  }

  /** Moves `pid` (all its threads) into the group in every hierarchy. */
  attach(pid: number): void {
    for (const { dir, hierarchy } of this.dirs) {
      writeCgroupFile(join(dir, 'cgroup.procs'), String(pid), `attach pid ${pid} to ${dir} (${hierarchy.controllers.join(',')})`);
    }
  }

  /** Every process in the group or below it, in any of its hierarchies. */
  procs(): number[] {
    const all = new Set<number>();
    for (const { dir } of this.dirs) for (const d of [dir, ...descendants(dir)]) for (const p of procsOf(d)) all.add(p);
    return [...all].sort((a, b) => a - b);
  }

  get freezer(): string | undefined {
    return this.dirOf('freezer');
  }

  frozen(): boolean {
    const f = this.freezer;
    return f !== undefined && tryReadCgroupFile(join(f, 'freezer.state'))?.trim() === 'FROZEN';
  }

  /**
   * freezer.state ← FROZEN, then wait until it reads FROZEN (it reads
   * FREEZING while tasks are still being stopped: cgroup-v1/freezer-subsystem.rst).
   */
  async freeze(timeoutMs: number): Promise<void> {
    const f = this.freezer;
    if (!f) throw new CgroupUnavailableError('freezer', 'no v1 hierarchy carries the freezer controller');
    writeCgroupFile(join(f, 'freezer.state'), 'FROZEN', 'freeze the group');
    if (!(await pollUntil(() => this.frozen(), timeoutMs))) {
      throw new CgroupTimeoutError(f, 'freezing', timeoutMs, `freezer.state reads ${readCgroupFile(join(f, 'freezer.state')).trim()}`);
    }
  }

  async thaw(): Promise<void> {
    const f = this.freezer;
    if (!f) throw new CgroupUnavailableError('freezer', 'no v1 hierarchy carries the freezer controller');
    writeCgroupFile(join(f, 'freezer.state'), 'THAWED', 'thaw the group');
  }

  /**
   * v1 has no cgroup.kill: SIGKILL every pid in cgroup.procs until none is
   * left. A process may fork between our read and our kill, so the group is
   * frozen first (when a freezer hierarchy exists): frozen tasks cannot fork,
   * and the SIGKILLs take effect at the thaw.
   */
  async kill(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const f = this.freezer;
    while (this.procs().length > 0) {
      if (performance.now() > deadline) throw new CgroupTimeoutError(this.dirs[0]?.dir ?? this.rel, 'emptying the group', timeoutMs, `still holds ${this.procs().join(' ')}`);
      let froze = false;
      if (f) {
        try {
          await this.freeze(Math.min(1000, timeoutMs));
          froze = true;
        } catch (err) {
          // A task stuck in an uninterruptible sleep keeps the group FREEZING;
          // SIGKILL still reaches everything else.
          if (!(err instanceof CgroupTimeoutError)) throw err;
        }
      }
      for (const pid of this.procs()) {
        try {
          kill(pid, SIG.KILL);
        } catch (err) {
          if (!(err instanceof SyscallError && err.errno === 'ESRCH')) throw err;
        }
      }
      if (f && (froze || this.frozen() || tryReadCgroupFile(join(f, 'freezer.state'))?.trim() === 'FREEZING')) await this.thaw();
      await pollUntil(() => this.procs().length === 0, 200);
    }
  }

  /** Waits until the group is empty, then removes it (children first) in every hierarchy, and the parents it made. */
  async remove(timeoutMs: number): Promise<void> {
    if (!(await pollUntil(() => this.procs().length === 0, timeoutMs))) {
      throw new CgroupTimeoutError(this.dirs[0]?.dir ?? this.rel, 'the group emptying before removal', timeoutMs, `still holds ${this.procs().join(' ')}`);
    }
    const targets = this.dirs.flatMap(({ dir }) => [...descendants(dir), dir]);
    // rmdir(2) can answer EBUSY for a moment after the last task exited.
    const gone = await pollUntil(() => targets.every((d) => removeCgroupDir(d) !== 'busy'), timeoutMs);
    if (!gone) throw new CgroupTimeoutError(this.dirs[0]?.dir ?? this.rel, 'removal', timeoutMs, 'rmdir kept answering EBUSY');
    // Parents we made go too, unless another group now lives in them.
    for (const dir of [...this.#made].reverse()) if (!targets.includes(dir)) removeCgroupDir(dir);
  }

  /**
   * rmdir(2) of the group in each hierarchy, at once: no wait, no walk of
   * cgroup.procs or of child groups. rmdir(2) itself refuses (EBUSY) a group
   * that holds a process or a child group, so its success proves the group
   * was empty. False at the first hierarchy that refuses; those before it
   * are gone. The freezer's goes last, so that kill() can still freeze
   * whatever is left, and remove() finishes the job.
   */
  removeNow(): boolean {
    const order = [...this.dirs].sort((a, b) => Number(a.hierarchy.controllers.includes('freezer')) - Number(b.hierarchy.controllers.includes('freezer')));
    for (const { dir } of order) if (removeCgroupDir(dir) === 'busy') return false;
    // Parents we made go too, unless another group now lives in them.
    for (const dir of [...this.#made].reverse()) if (!this.dirs.some((d) => d.dir === dir)) removeCgroupDir(dir);
    return true;
  }

  /** Undoes create() when setting it up failed: nothing was attached yet. */
  rollback(): void {
    for (const dir of [...this.#made].reverse()) removeCgroupDir(dir);
  }

  stats(): CgroupStats {
    const at = (controller: string, file: string) => {
      const dir = this.dirOf(controller);
      return dir ? tryReadCgroupFile(join(dir, file)) : null;
    };
    return v1Stats({
      cpuacctUsage: at('cpuacct', 'cpuacct.usage'),
      cpuacctUser: at('cpuacct', 'cpuacct.usage_user'),
      cpuacctSys: at('cpuacct', 'cpuacct.usage_sys'),
      cpuStat: at('cpu', 'cpu.stat'),
      memoryUsage: at('memory', 'memory.usage_in_bytes'),
      memoryMaxUsage: at('memory', 'memory.max_usage_in_bytes'),
      memoryFailcnt: at('memory', 'memory.failcnt'),
      memswFailcnt: at('memory', 'memory.memsw.failcnt'),
      memoryOomControl: at('memory', 'memory.oom_control'),
      pidsCurrent: at('pids', 'pids.current'),
      pidsPeak: at('pids', 'pids.peak'),
      pidsEvents: at('pids', 'pids.events'),
    });
  }
}
