// Mount propagation: whether a mount or unmount under one mount is repeated
// under its peers. mount_namespaces(7) "Shared subtrees".
import { MS, ValidationError } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';
import { absolute } from './check.ts';
import { planMountCalls, runMountCalls, type MountCall } from './mount.ts';

/**
 * - `private`: events propagate neither in nor out.
 * - `slave`: events from the master (the host) propagate in, none out.
 * - `shared`: events propagate both ways between peers.
 * - `unbindable`: private, and cannot be the source of a bind mount.
 */
export type PropagationType = 'private' | 'slave' | 'shared' | 'unbindable';

export const PROPAGATION_FLAGS: Readonly<Record<PropagationType, number>> = {
  private: MS.PRIVATE, slave: MS.SLAVE, shared: MS.SHARED, unbindable: MS.UNBINDABLE,
};

export interface PropagationOptions {
  target: string;
  type: PropagationType;
  /** Every mount below `target` too (MS_REC). Default true. */
  recursive?: boolean;
}

const WHY: Record<PropagationType, string> = {
  private: 'nothing propagates in or out',
  slave: 'the host’s mounts propagate in, none out',
  shared: 'mounts propagate between peers',
  unbindable: 'private, and no bind may be made of it',
};

export function checkPropagation(field: string, type: unknown): PropagationType {
  if (typeof type !== 'string' || !Object.hasOwn(PROPAGATION_FLAGS, type)) throw new ValidationError(field, `one of ${Object.keys(PROPAGATION_FLAGS).join(', ')}; got ${String(type)}`);
  return type as PropagationType;
}

export function propagationCall(o: PropagationOptions): MountCall {
  const target = absolute('propagation.target', o.target);
  const type = checkPropagation('propagation.type', o.type);
  const rec = o.recursive ?? true;
  // mount(2): a propagation change takes only the type flag (and MS_REC);
  // source, fstype and data are ignored.
  return {
    source: null, target, fstype: null, flags: PROPAGATION_FLAGS[type] | (rec ? MS.REC : 0), data: null,
    label: `make ${rec ? 'every mount at and below ' : ''}${target} ${type}: ${WHY[type]}`,
  };
}

/** Changes propagation now. `mount --make-[r]private|rslave|rshared|runbindable TARGET`. */
export function propagation(o: PropagationOptions): void {
  runMountCalls([propagationCall(o)]);
}

/** The same change, as a step of a child's plan. */
export function planPropagation(plan: Plan, o: PropagationOptions): void {
  planMountCalls(plan, [propagationCall(o)]);
}
