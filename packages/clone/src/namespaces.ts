// namespaces(7): the kinds a child can be born into with clone(2) flags.
import { CLONE, ValidationError } from '@nsk/syscall';

export const NAMESPACE_FLAGS = {
  user: CLONE.NEWUSER,
  mount: CLONE.NEWNS,
  uts: CLONE.NEWUTS,
  ipc: CLONE.NEWIPC,
  pid: CLONE.NEWPID,
  net: CLONE.NEWNET,
  cgroup: CLONE.NEWCGROUP,
} as const;

export type NamespaceName = keyof typeof NAMESPACE_FLAGS;

/** `['user', 'pid']` → CLONE_NEWUSER|CLONE_NEWPID. */
export function namespaceFlags(names: readonly string[]): number {
  let flags = 0;
  for (const name of names) {
    if (name === 'time') {
      // clone(2) keeps the low byte of its flags for the exit signal, where
      // CLONE_NEWTIME (0x80) lives: a time namespace needs unshare(2) or clone3(2).
      throw new ValidationError('namespaces', 'a time namespace cannot be asked of clone(2); use @nsk/time');
    }
    const flag = (NAMESPACE_FLAGS as Record<string, number>)[name];
    if (flag === undefined) throw new ValidationError('namespaces', `unknown namespace ${JSON.stringify(name)} (known: ${Object.keys(NAMESPACE_FLAGS).join(', ')})`);
    flags |= flag;
  }
  return flags;
}
