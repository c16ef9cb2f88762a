// Where each limit goes: to the side (v1 or v2) that holds its controller.
// Pure: the same layout always gives the same writes.
import { CgroupUnavailableError } from './errors.ts';
import { v1Files, v2Files, type FileWrite } from './format.ts';
import { v1Hierarchy, type Layout } from './layout.ts';
import { limitedResources, type Limits, type Resource } from './limits.ts';

/** The v1 and v2 controller that serve each resource. */
export const V1_CONTROLLER: Record<Resource, string> = { cpu: 'cpu', cpuset: 'cpuset', memory: 'memory', pids: 'pids', io: 'blkio', hugetlb: 'hugetlb' };
export const V2_CONTROLLER: Record<Resource, string> = { cpu: 'cpu', cpuset: 'cpuset', memory: 'memory', pids: 'pids', io: 'io', hugetlb: 'hugetlb' };

/** Where a resource's controller lives on this layout: v2 when v2 offers it, else v1, else nowhere. */
export function resourceSide(layout: Layout, resource: Resource): 'v1' | 'v2' | null {
  if (layout.v2?.controllers.includes(V2_CONTROLLER[resource])) return 'v2';
  if (v1Hierarchy(layout, V1_CONTROLLER[resource])) return 'v1';
  return null;
}

export interface LimitPlan {
  /** Writes into the v1 hierarchies, each to its controller's. */
  readonly v1: readonly FileWrite[];
  /** Writes into the v2 group. */
  readonly v2: readonly FileWrite[];
  /** The v2 controllers these need enabled. */
  readonly v2Controllers: readonly string[];
}

/**
 * Routes each limit to the side that holds its controller. Pure: throws a
 * CgroupUnavailableError when a limit's controller is on neither side.
 */
export function planLimits(layout: Layout, limits: Limits): LimitPlan {
  const sides = new Map<Resource, 'v1' | 'v2'>();
  for (const r of limitedResources(limits)) {
    const side = resourceSide(layout, r);
    if (side === null) {
      const v2 = layout.v2 ? `the cgroup2 mount at ${layout.v2.mountPoint} offers ${layout.v2.controllers.join(', ') || 'no controllers'}` : 'there is no cgroup2 mount';
      const v1 = layout.v1.length ? `no v1 hierarchy carries ${V1_CONTROLLER[r]}` : 'there is no v1 hierarchy';
      throw new CgroupUnavailableError(V2_CONTROLLER[r], `cannot set ${r} limits on this ${layout.kind} host: ${v2}, and ${v1}`);
    }
    sides.set(r, side);
  }
  const v1ToResource = Object.fromEntries(Object.entries(V1_CONTROLLER).map(([r, c]) => [c, r as Resource]));
  const v2ToResource = Object.fromEntries(Object.entries(V2_CONTROLLER).map(([r, c]) => [c, r as Resource]));
  const v1 = v1Files(limits).filter((w) => sides.get(v1ToResource[w.controller]!) === 'v1');
  const v2 = v2Files(limits).filter((w) => sides.get(v2ToResource[w.controller]!) === 'v2');
  return { v1, v2, v2Controllers: [...new Set(v2.map((w) => w.controller))] };
}
