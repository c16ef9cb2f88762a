// Cgroups without root (cgroups(7), "Cgroups v2 delegation"): a delegator
// (systemd with Delegate=yes, or root) gives a user a subtree by chowning its
// directory and its cgroup.procs, cgroup.subtree_control and cgroup.threads.
// Inside it the user may make groups, move their own processes between
// them, and set limits on the controllers the delegator enabled. Nothing of
// the kind exists for v1, so a rootless caller only ever uses v2.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { procsOf, tryReadCgroupFile } from './cgroupfs.ts';
import { CgroupDelegationError } from './errors.ts';
import { v1Hierarchy, v2PathOf, type Layout } from './layout.ts';

const writable = (path: string) => {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

const words = (text: string | null) => (text ?? '').trim().split(/\s+/).filter(Boolean);

/** The deepest common ancestor of two absolute cgroup paths. */
export function commonAncestor(a: string, b: string): string {
  const pa = a.split('/').filter(Boolean);
  const pb = b.split('/').filter(Boolean);
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return `/${pa.slice(0, i).join('/')}`;
}

/**
 * Checks that the caller (`uid`, not root) can make groups under `parent`
 * (default: its own v2 group) with the v2 controllers `needs`, and returns
 * that parent. Throws a CgroupDelegationError listing everything missing.
 */
export function delegatedParent(layout: Layout, needs: readonly string[], parent: string | undefined, uid: number): string {
  const own = v2PathOf('self');
  if (layout.v2 === null || own === null) {
    throw new CgroupDelegationError('(no cgroup2 mount)', ['a cgroup v2 hierarchy: this host has only cgroup v1, whose hierarchies belong to root and cannot be delegated']);
  }
  const group = parent ?? own;
  const dir = join(layout.v2.mountPoint, group);
  const missing: string[] = [];
  if (!existsSync(dir)) throw new CgroupDelegationError(dir, [`the group ${group} does not exist`]);
  const owner = statSync(dir).uid;
  if (owner !== uid) {
    missing.push(`ownership: ${dir} belongs to uid ${owner}, not to you (uid ${uid}); nobody delegated it (systemd: Delegate=yes; by hand: chown the directory and its cgroup.procs, cgroup.subtree_control and cgroup.threads)`);
  }
  if (!writable(dir)) missing.push(`write access to ${dir} (to make groups in it)`);
  for (const file of ['cgroup.procs', 'cgroup.subtree_control']) {
    if (!writable(join(dir, file))) missing.push(`write access to ${join(dir, file)}`);
  }
  // cgroups(7): moving a process needs write access to cgroup.procs of the
  // common ancestor of its old and new group. Our children start in `own`.
  const common = commonAncestor(own, group);
  if (common !== group && !writable(join(layout.v2.mountPoint, common, 'cgroup.procs'))) {
    missing.push(`write access to ${join(layout.v2.mountPoint, common, 'cgroup.procs')}: processes start in ${own}, and moving them to ${group} needs it (delegation containment)`);
  }
  const available = words(tryReadCgroupFile(join(dir, 'cgroup.controllers')));
  const enabled = words(tryReadCgroupFile(join(dir, 'cgroup.subtree_control')));
  for (const c of needs) {
    if (available.includes(c)) continue;
    const v1 = v1Hierarchy(layout, c === 'io' ? 'blkio' : c);
    missing.push(v1
      ? `the ${c} controller: on this host it is bound to the cgroup v1 hierarchy at ${v1.mountPoint}, and v1 cannot be delegated`
      : `the ${c} controller: not in ${dir}/cgroup.controllers (the delegator must enable it in the parent’s cgroup.subtree_control)`);
  }
  const toEnable = needs.filter((c) => available.includes(c) && !enabled.includes(c));
  const inside = procsOf(dir);
  if (toEnable.length > 0 && inside.length > 0) {
    missing.push(`a group without processes: ${dir} holds ${inside.length} process(es)${inside.includes(process.pid) ? ', this one among them' : ''}, and cgroup v2 lets a group enable ${toEnable.join(', ')} for its children only while it holds none ("no internal processes"); run from a leaf below it and pass ${group} as parent`);
  }
  if (missing.length > 0) throw new CgroupDelegationError(dir, missing);
  return group;
}
