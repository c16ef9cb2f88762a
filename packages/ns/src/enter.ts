// nsenter(1) from Node: run a program inside a running process's namespaces.
import { spawn, type Child, type Feature, type SpawnOptions } from '@nsk/clone';
import { joinNamespaces, type JoinOptions } from './join.ts';

export interface EnterOptions extends JoinOptions, Omit<SpawnOptions, 'namespaces' | 'features' | 'shareMemory'> {
  /** More features, after the join (a cgroup to join, a seccomp filter …). */
  features?: readonly Feature[];
}

/**
 * `nsenter -t PID -a [-r -w] -- argv`: starts `argv` in the namespaces of
 * process `pid` (or of namespace files). Resolves once execve succeeded,
 * with the running child; rejects with a SyscallError naming the setns step
 * that failed.
 *
 * The child stays in Node's cgroup and keeps Node's capabilities and
 * (absence of) seccomp filter: nsenter does the same; `docker exec` also
 * joins the cgroup and drops privileges — add those features for that.
 */
export async function enter(options: EnterOptions): Promise<Child> {
  const { pid, namespaces, files, root, cwd, uid, gid, preserveCredentials, minFd, features, ...spawnOptions } = options;
  const join = joinNamespaces({
    ...(pid !== undefined ? { pid } : {}),
    ...(namespaces !== undefined ? { namespaces } : {}),
    ...(files !== undefined ? { files } : {}),
    ...(root !== undefined ? { root } : {}),
    ...(cwd !== undefined ? { cwd } : {}),
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
    ...(preserveCredentials !== undefined ? { preserveCredentials } : {}),
    // Keep the namespace fds clear of the fds the child's stdio is dup'ed onto.
    minFd: Math.max(minFd ?? 3, spawnOptions.stdio?.length ?? 3),
  });
  try {
    return await spawn({ ...spawnOptions, features: [join, ...(features ?? [])] });
  } finally {
    join.close();
  }
}
