// Everything checked and decided before a group is made: its name and
// path, the limits and where each goes, delegation for a caller without
// root. Reads the host (mountinfo, sysfs), changes nothing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '@nsk/syscall';
import { delegatedParent } from './delegation.ts';
import { CgroupUnavailableError } from './errors.ts';
import { detectLayout, restrictLayout, v1Hierarchy, type Layout } from './layout.ts';
import { limitedResources, validateLimits, type Limits } from './limits.ts';
import { V2_CONTROLLER, planLimits, type LimitPlan } from './route.ts';

export interface CgroupOptions {
  /** The group's name. Default `nsk-<pid>-<n>`. */
  name?: string;
  /**
   * The group it is made under, as a path from each hierarchy's root.
   * Default `/` for root; for a caller without root, its own v2 group (its
   * delegated subtree). Missing levels are made, and removed with the group.
   */
  parent?: string;
  limits?: Limits;
  /** The host's hierarchies. Default: detectLayout(). restrictLayout() drives one side of a hybrid. */
  layout?: Layout;
  /** How long freeze, kill and delete wait on the kernel. Default 5000 ms. */
  timeoutMs?: number;
}

const CONTROLLER_PREFIX = /^(cgroup|cpu|cpuacct|cpuset|memory|pids|io|blkio|freezer|hugetlb|rdma|misc|devices|net_cls|net_prio|perf_event)\./;

function checkName(field: string, name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/.test(name)) {
    throw new ValidationError(field, `${JSON.stringify(name)} must be 1–200 letters, digits, "_", "-" or "." and not start with "." or "-"`);
  }
  // A group's directory sits beside its parent's control files (cpu.max …).
  if (CONTROLLER_PREFIX.test(name) || ['tasks', 'notify_on_release', 'release_agent'].includes(name)) throw new ValidationError(field, `${JSON.stringify(name)} could clash with a control file's name`);
}

function relPath(parent: string, name: string): string {
  if (typeof parent !== 'string' || !parent.startsWith('/')) throw new ValidationError('parent', `must be a path from the hierarchy's root, starting with "/": ${JSON.stringify(parent)}`);
  const parts = parent.split('/').filter(Boolean);
  for (const p of parts) checkName('parent', p);
  return [...parts, name].join('/');
}

let counter = 0;

/** Everything checked and decided before a group is made. */
export interface PreparedCgroup {
  readonly name: string;
  /** The path under each hierarchy's root: `nsk-1234-1`, `a/b/nsk-1234-1`. */
  readonly rel: string;
  readonly layout: Layout;
  readonly limits: Limits;
  readonly plan: LimitPlan;
  readonly timeoutMs: number;
  readonly rootless: boolean;
}

/**
 * Validates the options against the host without changing it: limits in
 * range, a controller for each limit, swap accounting for a v1 swap limit,
 * a delegated subtree for a caller without root.
 */
export function prepareCgroup(options: CgroupOptions = {}): PreparedCgroup {
  const name = options.name ?? `nsk-${process.pid}-${++counter}`;
  checkName('name', name);
  if (options.parent !== undefined) relPath(options.parent, name);
  const limits = validateLimits(options.limits ?? {});
  const timeoutMs = options.timeoutMs ?? 5000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new ValidationError('timeoutMs', `must be a positive integer, got ${timeoutMs}`);
  const hostLayout = options.layout ?? detectLayout();
  const uid = process.geteuid?.() ?? 0;
  let layout = hostLayout;
  let parent = options.parent ?? '/';
  if (uid !== 0) {
    const needs = limitedResources(limits).map((r) => V2_CONTROLLER[r]);
    parent = delegatedParent(hostLayout, needs, options.parent, uid);
    layout = restrictLayout(hostLayout, 'v2');
    // What the delegated group offers is what counts, not the root's list.
    layout = { ...layout, v2: { mountPoint: layout.v2!.mountPoint, controllers: needs } };
  }
  const rel = relPath(parent, name);
  const plan = planLimits(layout, limits);
  if (plan.v1.some((w) => w.file === 'memory.memsw.limit_in_bytes')) {
    const memory = v1Hierarchy(layout, 'memory')!;
    if (!existsSync(join(memory.mountPoint, 'memory.memsw.limit_in_bytes'))) {
      throw new CgroupUnavailableError('memory.swap', `swap accounting is off (no memory.memsw.* files in ${memory.mountPoint}; boot with swapaccount=1)`);
    }
  }
  return { name, rel, layout, limits, plan, timeoutMs, rootless: uid !== 0 };
}
