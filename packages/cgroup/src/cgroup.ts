// One API over the three layouts. A group is a path (`/nsk-1234-1`) made in
// every hierarchy we use: each v1 hierarchy with a controller we need, and
// the cgroup2 hierarchy when it is mounted. Each limit goes to the side that
// holds its controller; what v2's core gives every group whatever its
// controllers — cgroup.kill, cgroup.freeze, cgroup.events — is used
// whenever the v2 side exists, also on a hybrid host.
import { existsSync } from 'node:fs';
import { NskError, ValidationError } from '@nsk/syscall';
import { CgroupUnavailableError } from './errors.ts';
import type { CgroupStats } from './format.ts';
import type { Layout } from './layout.ts';
import { validateLimits, type Limits } from './limits.ts';
import { prepareCgroup, type CgroupOptions, type PreparedCgroup } from './prepare.ts';
import { planLimits, resourceSide } from './route.ts';
import { V1Group } from './v1.ts';
import { V2Group } from './v2.ts';

/** A control group: made, filled, limited, watched, frozen, killed, deleted. */
export class Cgroup {
  readonly name: string;
  /** The path under each hierarchy's root, with a leading `/`: what /proc/PID/cgroup shows. */
  readonly path: string;
  readonly layout: Layout;
  readonly timeoutMs: number;
  readonly #v1: V1Group | null;
  readonly #v2: V2Group | null;
  #deleted = false;

  private constructor(p: PreparedCgroup, v1: V1Group | null, v2: V2Group | null) {
    this.name = p.name;
    this.path = `/${p.rel}`;
    this.layout = p.layout;
    this.timeoutMs = p.timeoutMs;
    this.#v1 = v1;
    this.#v2 = v2;
  }

  /**
   * Makes the group in every hierarchy and sets its limits; if any step
   * fails, removes what it made and throws. `mkdir /sys/fs/cgroup/…/NAME`.
   */
  static create(options: CgroupOptions | PreparedCgroup = {}): Cgroup {
    const p = 'plan' in options ? options : prepareCgroup(options);
    const v1 = p.layout.v1.length > 0 ? new V1Group(p.layout.v1, p.rel) : null;
    const v2 = p.layout.v2 ? new V2Group(p.layout.v2.mountPoint, p.rel) : null;
    try {
      v1?.create();
      v2?.create(p.plan.v2Controllers, p.rootless ? [] : undefined);
      for (const w of p.plan.v1) v1!.write(w);
      for (const w of p.plan.v2) v2!.write(w);
    } catch (err) {
      v2?.rollback();
      v1?.rollback();
      throw err;
    }
    return new Cgroup(p, v1 && v1.dirs.length > 0 ? v1 : null, v2);
  }

  /**
   * A handle on a group that already exists — made by another process, say,
   * whose limits are to change (`set`). Makes nothing; each of its
   * directories must be there. `delete()` removes the group only, not the
   * parents it sits in.
   */
  static open(options: CgroupOptions | PreparedCgroup): Cgroup {
    if (!('plan' in options) && options.name === undefined) throw new ValidationError('name', 'give the name of the group to open');
    const p = 'plan' in options ? options : prepareCgroup(options);
    const v1 = p.layout.v1.length > 0 ? new V1Group(p.layout.v1, p.rel) : null;
    const v2 = p.layout.v2 ? new V2Group(p.layout.v2.mountPoint, p.rel) : null;
    const missing = [...(v1?.dirs.map((d) => d.dir) ?? []), ...(v2 ? [v2.dir] : [])].filter((d) => !existsSync(d));
    if (missing.length) throw new NskError(`cgroup /${p.rel} does not exist: no ${missing.join(', ')}`, 'ERR_NSK_CGROUP_MISSING');
    return new Cgroup(p, v1 && v1.dirs.length > 0 ? v1 : null, v2);
  }

  /** The group's directory in every hierarchy. */
  get dirs(): string[] {
    return [...(this.#v1?.dirs.map((d) => d.dir) ?? []), ...(this.#v2 ? [this.#v2.dir] : [])];
  }

  /** The v2 group's directory, if the host has a cgroup2 mount. */
  get v2Dir(): string | null {
    return this.#v2?.dir ?? null;
  }

  /** The group's directory in the v1 hierarchy of `controller`. */
  v1Dir(controller: string): string | null {
    return this.#v1?.dirOf(controller) ?? null;
  }

  get deleted(): boolean {
    return this.#deleted;
  }

  #live(): void {
    if (this.#deleted) throw new NskError(`cgroup ${this.path} was deleted`, 'ERR_NSK_CGROUP_DELETED');
  }

  /** Moves `pid` into the group everywhere: `echo PID > cgroup.procs` in each hierarchy. */
  attach(pid: number): void {
    this.#live();
    if (!Number.isInteger(pid) || pid < 1) throw new ValidationError('pid', `not a pid: ${pid}`);
    this.#v1?.attach(pid);
    this.#v2?.attach(pid);
  }

  /** Changes limits of the live group (validated first, like at creation). */
  set(limits: Limits): void {
    this.#live();
    const plan = planLimits(this.layout, validateLimits(limits));
    // A controller the group was made without is enabled now: its parents
    // hold no processes of their own (cgroup-v2.rst, "No Internal Process
    // Constraint" binds the parent, not the group being limited).
    const missing = plan.v2Controllers.filter((c) => !this.#v2?.controllers().includes(c));
    if (missing.length) this.#v2!.enable(missing);
    for (const w of this.#v1?.liveOrder(plan.v1) ?? []) this.#v1!.write(w);
    for (const w of plan.v2) this.#v2!.write(w);
  }

  /** Every pid in the group and below it. */
  procs(): number[] {
    return [...new Set([...(this.#v1?.procs() ?? []), ...(this.#v2?.procs() ?? [])])].sort((a, b) => a - b);
  }

  /** True while any process lives in it (v2: cgroup.events `populated`). */
  populated(): boolean {
    return (this.#v2?.populated() ?? false) || (this.#v1?.procs().length ?? 0) > 0;
  }

  /** What the kernel counted: CPU time, memory, pids, OOM kills. */
  stats(): CgroupStats {
    this.#live();
    const s1 = this.#v1?.stats();
    const s2 = this.#v2?.stats();
    const cpuOnV2 = resourceSide(this.layout, 'cpu') === 'v2';
    const memory = s1?.memory ?? s2?.memory ?? null;
    return {
      // v2's cpu.stat counts usage for every group; prefer it when the cpu
      // controller is there, else v1's cpuacct (whose usage is in ns).
      cpu: (cpuOnV2 ? s2?.cpu : s1?.cpu ?? s2?.cpu) ?? null,
      memory,
      pids: s1?.pids ?? s2?.pids ?? null,
      oomKilled: (memory?.oomKills ?? 0) > 0,
    };
  }

  /** The side that freezes: v2's cgroup.freeze when there is a v2 group, else the v1 freezer. */
  #freezer(): V1Group | V2Group {
    if (this.#v2) return this.#v2;
    if (this.#v1?.freezer) return this.#v1;
    throw new CgroupUnavailableError('freezer', 'no cgroup2 mount and no v1 freezer hierarchy');
  }

  /** Stops every task of the group; resolves once the kernel reports it frozen. */
  async freeze(): Promise<void> {
    this.#live();
    await this.#freezer().freeze(this.timeoutMs);
  }

  async thaw(): Promise<void> {
    this.#live();
    await this.#freezer().thaw(this.timeoutMs);
  }

  frozen(): boolean {
    return this.#freezer().frozen();
  }

  /**
   * SIGKILLs every process in the group and resolves once it is empty:
   * v2 cgroup.kill, or on v1 the freeze-kill-thaw loop.
   */
  async kill(): Promise<void> {
    this.#live();
    if (this.#v2) await this.#v2.kill(this.timeoutMs);
    if (this.#v1) await this.#v1.kill(this.timeoutMs);
  }

  /**
   * Removes the group now if it is empty — the common case once a
   * container's PID 1 was reaped — by rmdir(2) alone, which refuses a group
   * holding a process or a child group: no read of cgroup.procs, no walk.
   * True when it is gone everywhere. False when some hierarchy still holds
   * something: kill() and delete() then do the rest (a hierarchy already
   * removed counts as empty to them).
   */
  removeIfEmpty(): boolean {
    if (this.#deleted) return true;
    if (this.#v2 && !this.#v2.removeNow()) return false;
    if (this.#v1 && !this.#v1.removeNow()) return false;
    this.#deleted = true;
    return true;
  }

  /**
   * Waits until the group is empty, then removes it from every hierarchy
   * (with any groups made inside it). Idempotent. `rmdir` in each hierarchy.
   */
  async delete(): Promise<void> {
    if (this.#deleted) return;
    await this.#v2?.remove(this.timeoutMs);
    await this.#v1?.remove(this.timeoutMs);
    this.#deleted = true;
  }
}
