// The cgroup Feature (DESIGN.md §3). Its `parent` hook makes the group and
// writes the child's pid into it while the child still waits at its first
// plan step, so the container's first instruction already runs limited.
//
// cgroup_namespaces(7): a cgroup namespace takes the caller's cgroups at the
// moment it is made as its root. Born with CLONE_NEWCGROUP, the child would
// be rooted at the group it was cloned in (ours), and our attach would move
// it out, below that root. So the plan unshares the namespace only after the
// wait-for-parent step: by then the child is in its own group, which
// becomes its `/`.
import { CLONE, NskError } from '@nsk/syscall';
import type { ChildInfo, Feature, Plan } from '@nsk/clone';
import { Cgroup } from './cgroup.ts';
import { prepareCgroup, type CgroupOptions, type PreparedCgroup } from './prepare.ts';
import type { CgroupStats } from './format.ts';

export interface CgroupFeatureOptions extends Omit<CgroupOptions, 'layout'> {
  layout?: CgroupOptions['layout'];
  /** A cgroup namespace rooted at the container's group: it sees its group as `/`. Default true. */
  namespace?: boolean;
}

export interface CgroupFeature extends Feature {
  /** The group while the container runs (null before start and after cleanup). */
  readonly group: Cgroup | null;
  /** The group's path, known before it is made: `/nsk-1234-1`. */
  readonly path: string;
  /** Live stats, or after the container ended, those read just before its group was removed. */
  stats(): CgroupStats;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** SIGKILLs every process of the container (also those it started), and waits until none is left. A no-op once it has ended. */
  kill(): Promise<void>;
}

/**
 * A Feature that runs the container in a cgroup of its own with `limits`.
 * Every check (limits, controllers, delegation) happens here, before clone.
 */
export function cgroup(options: CgroupFeatureOptions = {}): CgroupFeature {
  const { namespace = true, ...rest } = options;
  const prepared: PreparedCgroup = prepareCgroup(rest);
  let group: Cgroup | null = null;
  let last: CgroupStats | null = null;
  const live = (): Cgroup => {
    if (!group) throw new NskError('the container’s cgroup does not exist (not started yet, or already removed)', 'ERR_NSK_CGROUP_NOT_RUNNING');
    return group;
  };
  return {
    name: 'cgroup',
    get group() { return group; },
    path: `/${prepared.rel}`,
    plan(plan: Plan) {
      if (namespace) plan.unshare(CLONE.NEWCGROUP, { label: 'enter a new cgroup namespace, rooted at the container’s own group' });
    },
    parent(child: ChildInfo) {
      if (group) throw new NskError(`this cgroup feature already holds a running container (${group.path}); make one feature per container`, 'ERR_NSK_CGROUP_IN_USE');
      last = null;
      group = Cgroup.create(prepared);
      group.attach(child.pid);
    },
    async cleanup() {
      const g = group;
      if (!g) return;
      try {
        last = g.stats();
      } catch {
        // The stats are a courtesy; removing the group is the duty.
      }
      // Processes the container started may outlive it (without a pid
      // namespace nothing kills them when it exits).
      if (!g.removeIfEmpty()) {
        await g.kill();
        await g.delete();
      }
      group = null;
    },
    stats() {
      if (!group && last) return last;
      return live().stats();
    },
    freeze: async () => live().freeze(),
    thaw: async () => live().thaw(),
    // Nothing left to kill once the container ended and its group is gone.
    kill: async () => group?.kill(),
  };
}
