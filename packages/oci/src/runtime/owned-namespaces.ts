// Who owns the container's new namespaces.
//
// user_namespaces(7): "When a new IPC, mount, network, PID, UTS, or cgroup
// namespace is created via clone(2) or unshare(2), the kernel records the
// user namespace of the creating process as the owner of the new
// namespace"; capabilities over it are checked in that owner. A namespace
// made by clone(2) flags is owned by the user namespace of the *caller*:
// this Node process. When config.json joins a user namespace by `path` and
// asks for new ones beside it, they must be owned by the joined one (runc
// does so: setns first, then unshare) — else the container, whose
// capabilities are those of the joined namespace, could not mount proc or
// sysfs nor set its hostname (mount needs CAP_SYS_ADMIN in the owner of the
// pid, network or mount namespace).
//
// So then: the child joins the user namespace (setns, @nsk/ns), then
// unshare(2)s the mount, network, UTS, IPC and cgroup namespaces. A pid
// namespace cannot be made that way: unshare(CLONE_NEWPID) moves only the
// caller's *children* (pid_namespaces(7)), so runc and crun fork once more
// and the grandchild is PID 1. @nsk/clone's child runs its plan to execve
// without forking, and Node's threads cannot setns(2) into a user
// namespace (EINVAL for a multithreaded process); nor can a holder process
// make one to join: /proc/PID/ns/pid_for_children cannot be opened
// (ENOENT) before the namespace has its PID 1. So a new pid namespace
// beside a joined user namespace is refused before anything is made —
// owned by ours, the container could not even mount its /proc (EPERM:
// proc needs CAP_SYS_ADMIN in the owner of the pid namespace).
//
// cgroup_namespaces(7): "When a process creates a new cgroup namespace ...
// its current cgroups directories become the cgroup root directories of the
// new namespace." The parent moves the child into the container's cgroups
// after clone(2), so a cgroup namespace made by clone flags would have the
// runtime's cgroups as its root: it is always unshared in the plan, which
// runs after the parent attached the child.
import { statSync } from 'node:fs';
import { ValidationError } from '@nsk/syscall';
import type { Feature, Plan } from '@nsk/clone';
import { NS_FLAG, type NamespaceType } from '@nsk/ns';
import type { OciSpec } from '../config/index.ts';

/**
 * The user namespace config.json joins by path, when it is not the one this
 * process is in (joining our own is no join: @nsk/ns skips it).
 */
export function joinedUserNamespace(spec: OciSpec): string | null {
  const u = spec.namespaces.find((n) => n.type === 'user' && n.path !== null);
  if (!u) return null;
  let inode: number;
  try { inode = statSync(u.path!).ino; } catch { return u.path; } // @nsk/ns reports the path
  return inode === statSync('/proc/thread-self/ns/user').ino ? null : u.path;
}

/** Refuses what cannot be owned right (see above); makes nothing. */
export function checkOwnership(spec: OciSpec): void {
  if (joinedUserNamespace(spec) === null) return;
  const i = spec.namespaces.findIndex((n) => n.type === 'pid' && n.path === null);
  if (i < 0) return;
  throw new ValidationError(`linux.namespaces[${i}]`, 'a new pid namespace beside a user namespace joined by path would be owned by the runtime’s user namespace, not the joined one (making it there needs a process forked inside the plan, which nsk-runtime does not do yet): join a pid namespace by path as well, or create a new user namespace');
}

/** unshare(2) of `types` as a plan step (after the user namespace is joined). */
export function unshareFeature(types: readonly NamespaceType[]): Feature | null {
  if (!types.length) return null;
  let flags = 0;
  for (const t of types) flags |= NS_FLAG[t];
  return {
    name: 'unshare',
    plan(plan: Plan) {
      plan.unshare(flags, { label: `create the new ${types.join(', ')} namespaces, owned by the child’s user namespace (unshare)` });
    },
  };
}
