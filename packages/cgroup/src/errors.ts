// Errors of this package that carry no errno of their own. A failing write
// to a cgroup file is a SyscallError from @nsk/syscall (see cgroupfs.ts).
import { NskError } from '@nsk/syscall';

/**
 * What was asked needs something this host's cgroups do not offer: a
 * controller bound to no hierarchy we can use, a file the kernel lacks
 * (memory.memsw.* without swap accounting), no cgroup filesystem at all.
 */
export class CgroupUnavailableError extends NskError {
  /** The controller or feature that is missing: `'cpu'`, `'freezer'`, `'memory.swap'`. */
  readonly feature: string;
  constructor(feature: string, message: string) {
    super(`${feature}: ${message}`, 'ERR_NSK_CGROUP_UNAVAILABLE');
    this.feature = feature;
  }
}

/**
 * A caller without root has no cgroup subtree of its own to work in
 * (cgroups(7), "Cgroups v2 delegation"). `missing` says, item by item, what
 * the delegator (systemd's Delegate=yes, or root) still has to provide.
 */
export class CgroupDelegationError extends NskError {
  /** The group that was checked, as a path under the cgroup2 mount. */
  readonly group: string;
  readonly missing: readonly string[];
  constructor(group: string, missing: readonly string[]) {
    super(`rootless cgroups: no usable delegated subtree at ${group}:\n${missing.map((m) => `  - ${m}`).join('\n')}`, 'ERR_NSK_CGROUP_NOT_DELEGATED');
    this.group = group;
    this.missing = missing;
  }
}

/** A wait on the kernel did not end in time: a group that would not freeze or empty. */
export class CgroupTimeoutError extends NskError {
  /** The cgroup directory. */
  readonly path: string;
  constructor(path: string, what: string, ms: number, detail = '') {
    super(`${path}: ${what} did not happen within ${ms} ms${detail ? ` (${detail})` : ''}`, 'ERR_NSK_CGROUP_TIMEOUT');
    this.path = path;
  }
}
