// The user namespace feature: user_namespaces(7). The child is born in a new
// user namespace (CLONE_NEWUSER); while it waits, the parent writes its maps;
// then the child takes the ids asked for and goes on with its plan.
import { CLONE, ValidationError } from '@nsk/syscall';
import type { Feature, Plan } from '@nsk/clone';
import { currentCaller, type Caller } from './caller.ts';
import { resolveMapping, type Mapping, type UserOptions } from './mapping.ts';
import { findMapper, runMapper } from './newidmap.ts';
import { denySetgroups, writeIdMap } from './write-map.ts';
import type { IdKind } from './id-map.ts';

export interface UserFeature extends Feature {
  /** What was decided before clone: the maps, who writes them, setgroups. */
  readonly mapping: Mapping;
}

/** The child's steps: supplementary groups (when allowed), then gid, then uid. */
export function planIds(plan: Plan, m: Mapping): void {
  // setgroups(2) and setresgid(2) need CAP_SETGID, which setresuid(2) to a
  // non-zero uid takes away (capabilities(7)): groups first, uid last.
  if (m.groups !== null) plan.setgroups(m.groups);
  plan.setresgid(m.gid);
  plan.setresuid(m.uid);
}

/**
 * A new user namespace. `unshare --user --map-root-user` by default;
 * `unshare --user --map-users=… --map-groups=…` (through newuidmap and
 * newgidmap) with subordinate ids.
 */
export function user(options: UserOptions = {}, caller: Caller = currentCaller()): UserFeature {
  if (options === null || typeof options !== 'object') throw new ValidationError('user', 'give an options object');
  const mapping = resolveMapping(options, caller);
  const helper = (kind: IdKind): string | null => {
    const writer = kind === 'uid' ? mapping.uidWriter : mapping.gidWriter;
    if (writer === 'direct') return null;
    const path = findMapper(writer);
    if (path === null) throw new ValidationError(`${kind}Map`, `mapping ids other than your own needs the setuid ${writer} (Debian and Ubuntu: apt install uidmap), which is not installed`);
    return path;
  };
  const uidHelper = helper('uid');
  const gidHelper = helper('gid');

  return {
    name: 'user',
    cloneFlags: CLONE.NEWUSER,
    mapping,
    plan: (plan) => planIds(plan, mapping),
    async parent({ pid }) {
      const writeUids = async () => {
        if (uidHelper) await runMapper(uidHelper, pid, mapping.uidMap);
        else writeIdMap(pid, 'uid', mapping.uidMap);
      };
      const writeGids = async () => {
        if (gidHelper) return runMapper(gidHelper, pid, mapping.gidMap);
        // user_namespaces(7): "deny" must be written before gid_map, and
        // only then may an unprivileged process write its own gid.
        if (mapping.setgroups === 'deny') denySetgroups(pid);
        writeIdMap(pid, 'gid', mapping.gidMap);
      };
      // Direct writes happen at once, in order (uid_map, setgroups, gid_map);
      // the two helpers, separate programs writing separate files, run side
      // by side (each exec of a setuid program costs several ms).
      const results = await Promise.allSettled([writeUids(), writeGids()]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    },
  };
}
