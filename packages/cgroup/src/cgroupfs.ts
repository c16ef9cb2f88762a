// Reading and writing cgroup files. Each control file takes one value per
// write(2) (cgroups(7)), and a failed write carries the kernel's errno: we
// turn it into a SyscallError naming the step, the file and the value.
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, writeSync, constants } from 'node:fs';
import { basename, join } from 'node:path';
import { SyscallError, errnoNumber } from '@nsk/syscall';

interface NodeFsError extends Error {
  code?: string;
  syscall?: string;
}

function isFsError(err: unknown): err is NodeFsError {
  return err instanceof Error && typeof (err as NodeFsError).code === 'string';
}

/** The errno name of a node:fs error, or undefined for other errors. */
export function fsErrno(err: unknown): string | undefined {
  return isFsError(err) ? err.code : undefined;
}

/** What an errno most likely means when writing this cgroup file. */
function writeHint(file: string, errno: string): string | undefined {
  const name = basename(file);
  if (errno === 'ENOENT') return `${name} does not exist: its controller is not enabled for this group`;
  if (name === 'cgroup.procs' && errno === 'ENOSPC') return 'cpuset.cpus or cpuset.mems of this group is empty (cgroup v1 cpuset), so no task may join it';
  if (name === 'cgroup.procs' && errno === 'ESRCH') return 'no such process (it already ended)';
  if (name === 'cgroup.procs' && errno === 'EBUSY') return 'cgroup v2 allows processes only in leaves: this group has controllers enabled for children';
  if (name === 'cgroup.procs' && (errno === 'EACCES' || errno === 'EPERM')) return 'moving a process needs write access to cgroup.procs of the target and of the common ancestor of both groups (cgroups(7), delegation containment)';
  if (name === 'cgroup.subtree_control' && errno === 'EBUSY') return 'cgroup v2 "no internal processes": this group holds processes, so it cannot enable controllers for its children';
  if (name === 'cgroup.subtree_control' && errno === 'ENOENT') return 'the controller is not available in this group (not in cgroup.controllers)';
  if (name === 'cpu.cfs_quota_us' && errno === 'EINVAL') return 'the quota is out of range, or above the parent group’s quota (cgroup v1 requires a child’s quota ≤ its parent’s)';
  if (name === 'cpuset.cpus' && errno === 'EINVAL') return 'the CPUs are not all online or not all in the parent’s cpuset.cpus';
  if (name === 'cpuset.mems' && errno === 'EINVAL') return 'the memory nodes are not all online or not all in the parent’s cpuset.mems';
  if ((name === 'memory.limit_in_bytes' || name === 'memory.max') && errno === 'EBUSY') return 'the group already uses more memory than that and the kernel could not reclaim it';
  if (name === 'memory.limit_in_bytes' && errno === 'EINVAL') return 'the memory limit may not be above memory.memsw.limit_in_bytes (memory+swap): raise that too';
  if (name === 'memory.memsw.limit_in_bytes' && errno === 'EINVAL') return 'memory+swap must be at least memory.limit_in_bytes';
  return undefined;
}

function toSyscallError(err: unknown, step: string, path: string, extra: Array<string | number> = [], hint?: string): SyscallError | unknown {
  if (!isFsError(err) || !err.code) return err;
  let errno: number;
  try {
    errno = errnoNumber(err.code);
  } catch {
    return err;
  }
  return new SyscallError({ step, syscall: err.syscall ?? 'open', errno, path, args: [path, ...extra], ...(hint ? { hint } : {}), cause: err });
}

/**
 * Writes `value` with one write(2), opening the file write-only and never
 * creating it (a missing file means a missing controller, reported as ENOENT).
 */
export function writeCgroupFile(path: string, value: string, step: string): void {
  let fd = -1;
  try {
    fd = openSync(path, constants.O_WRONLY);
    writeSync(fd, value);
  } catch (err) {
    const errno = fsErrno(err);
    throw toSyscallError(err, step, path, [JSON.stringify(value)], errno ? writeHint(path, errno) : undefined);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** The file's text; throws a SyscallError naming `path`. */
export function readCgroupFile(path: string, step = `read ${path}`): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw toSyscallError(err, step, path);
  }
}

/** The file's text, or null when it does not exist (controller absent, group gone). */
export function tryReadCgroupFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const errno = fsErrno(err);
    if (errno === 'ENOENT' || errno === 'ENODEV' || errno === 'EOPNOTSUPP') return null;
    throw toSyscallError(err, `read ${path}`, path);
  }
}

/** mkdir(2) of one cgroup; true if this call made it, false if it existed. */
export function makeCgroupDir(path: string, step: string): boolean {
  try {
    mkdirSync(path);
    return true;
  } catch (err) {
    if (fsErrno(err) === 'EEXIST') return false;
    const errno = fsErrno(err);
    const hint = errno === 'EACCES' || errno === 'EPERM' ? 'creating a cgroup needs write access to its parent directory (root, or a delegated subtree)' : undefined;
    throw toSyscallError(err, step, path, [], hint);
  }
}

/**
 * rmdir(2) of one cgroup. cgroups(7): a cgroup can be removed when it has
 * no live processes and no child cgroups; its control files go with it.
 */
export function removeCgroupDir(path: string): 'removed' | 'absent' | 'busy' {
  try {
    rmdirSync(path);
    return 'removed';
  } catch (err) {
    const errno = fsErrno(err);
    if (errno === 'ENOENT') return 'absent';
    if (errno === 'EBUSY' || errno === 'ENOTEMPTY') return 'busy';
    throw toSyscallError(err, `remove cgroup ${path}`, path);
  }
}

/** `a/b` → [`a`, `a/b`]: every level of a relative path, top first. */
export function levels(rel: string): string[] {
  const parts = rel.split('/').filter(Boolean);
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** Child cgroups of `dir`, deepest first (so they can be removed in order). */
export function descendants(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if (fsErrno(err) === 'ENOENT') return [];
    throw err;
  }
  return names.flatMap((n) => [...descendants(join(dir, n)), join(dir, n)]);
}

/** The pids listed in `dir/cgroup.procs`, [] when the group is gone. */
export function procsOf(dir: string): number[] {
  const text = tryReadCgroupFile(join(dir, 'cgroup.procs'));
  return text === null ? [] : text.split('\n').filter(Boolean).map(Number);
}
