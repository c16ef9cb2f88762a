// The container's control groups (rootful): made by this process before
// clone(2), joined by the child itself.
//
// cgroups(7): a process joins a group by a write of a pid to cgroup.procs —
// "0" meaning the writer. Moving a task takes cgroup_threadgroup_rwsem for
// writing, and on a v1 hierarchy that first waits for an RCU grace period:
// milliseconds in which the writer sleeps. Written by the parent (as
// @nsk/cgroup's Feature does), that sleep blocks Node's event loop once per
// container; written by the child, it blocks only the child, and children
// starting side by side share the grace period. So the parent makes the
// groups and sets the limits before clone, and the child's first steps —
// before it mounts anything or runs a single instruction of the container's
// program — write "0" into each group's cgroup.procs. Its cgroup namespace
// is unshared later, after its mounts, rooted at those groups
// (cgroup_namespaces(7)).
import { rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLONE, O, AT } from '@nsk/syscall';
import type { Feature, Plan } from '@nsk/clone';
import { Cgroup, prepareCgroup, type Layout, type Limits, type PreparedCgroup } from '@nsk/cgroup';
import { deviceGroupDir, makeDeviceGroup, removeDeviceGroup } from './devices.ts';

/**
 * The v1 controllers whose hierarchies @nsk/cgroup makes a group in, to
 * show the steps in explain() before the groups exist (start() uses the
 * directories Cgroup.create really made).
 */
const V1_USED = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'freezer', 'blkio'];

export class ContainerCgroups {
  /** `/nsk-<name>`: the path under every hierarchy's root. */
  readonly path: string;
  readonly #prepared: PreparedCgroup;
  readonly #devices: string | null;
  #group: Cgroup | null = null;
  #devicesMade = false;

  private constructor(prepared: PreparedCgroup, devices: string | null) {
    this.#prepared = prepared;
    this.#devices = devices;
    this.path = `/${prepared.rel}`;
  }

  /** Checks the limits against the host (controllers, ranges); makes nothing. */
  static prepare(name: string, limits: Limits | null, layout: Layout): ContainerCgroups {
    const prepared = prepareCgroup({ name, layout, ...(limits ? { limits } : {}) });
    return new ContainerCgroups(prepared, deviceGroupDir(layout, prepared.rel));
  }

  /** The directories the child joins: as made, or as they would be made. */
  get dirs(): string[] {
    const l = this.#prepared.layout;
    const groups = this.#group ? this.#group.dirs : [
      ...l.v1.filter((h) => h.controllers.some((c) => V1_USED.includes(c))).map((h) => join(h.mountPoint, this.#prepared.rel)),
      ...(l.v2 ? [join(l.v2.mountPoint, this.#prepared.rel)] : []),
    ];
    return this.#devices ? [...groups, this.#devices] : groups;
  }

  /** mkdir in every hierarchy, the limits, the device allow-list. Undoes itself if a step fails. */
  create(): void {
    if (this.#devices) {
      makeDeviceGroup(this.#devices);
      this.#devicesMade = true;
    }
    try {
      this.#group = Cgroup.create(this.#prepared);
    } catch (err) {
      if (this.#devicesMade) rmdirSync(this.#devices!); // empty: no task ever joined it
      this.#devicesMade = false;
      throw err;
    }
  }

  /**
   * Kills whatever is left in the groups and removes them. Idempotent; runs
   * when the container ended, or when starting it failed.
   */
  async destroy(): Promise<void> {
    const g = this.#group;
    this.#group = null;
    const errors: unknown[] = [];
    if (g) {
      try {
        // Once PID 1 is reaped its pid namespace is empty, and so, nearly
        // always, are the groups: then rmdir(2) alone removes them.
        if (!g.removeIfEmpty()) {
          await g.kill();
          await g.delete();
        }
      } catch (err) {
        errors.push(err);
      }
    }
    if (this.#devicesMade) {
      this.#devicesMade = false;
      try {
        await removeDeviceGroup(this.#devices!);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'removing the container’s cgroups failed');
  }

  /** The child's first steps: `echo 0 > DIR/cgroup.procs` for each group; its cleanup removes them. */
  join(): Feature {
    const dirs = this.dirs;
    return {
      name: 'cgroup',
      plan: (plan: Plan) => {
        for (const dir of dirs) {
          const fd = plan.openat(AT.FDCWD, join(dir, 'cgroup.procs'), O.WRONLY, 0, { label: `open ${dir}/cgroup.procs` });
          plan.write(fd, '0', { label: `join ${dir} ("0": the writer)` });
          plan.close(fd, { label: `close ${dir}/cgroup.procs` });
        }
      },
      cleanup: () => this.destroy(),
    };
  }

  /** The cgroup namespace, unshared after the mounts: rooted at the groups just joined. */
  namespace(): Feature {
    return {
      name: 'cgroup-namespace',
      plan: (plan: Plan) => { plan.unshare(CLONE.NEWCGROUP, { label: 'enter a new cgroup namespace, rooted at the container’s own groups' }); },
    };
  }
}
