// The pid namespace as a Feature: pid_namespaces(7).
import { CLONE, MS } from '@nsk/syscall';
import type { Feature, Plan } from '@nsk/clone';

export interface PidOptions {
  /**
   * Give the child a /proc of its own pid namespace, as
   * `unshare --pid --fork --mount-proc` does: a new mount namespace, every
   * mount made private, then proc mounted on /proc. Leave it off when a
   * rootfs feature mounts /proc inside the new root (@nsk/mount does).
   * Default false.
   */
  mountProc?: boolean;
}

/** Steps that give the child a /proc showing its own pid namespace. */
export function planMountProc(plan: Plan): void {
  // mount_namespaces(7): a new mount namespace starts as a copy whose
  // mounts may still be shared with the host; unshare(1) makes them private
  // first, or the new /proc would cover the host's.
  plan.mount(null, '/', null, MS.REC | MS.PRIVATE, null, { label: 'make every mount private, so the new /proc stays inside' });
  // proc(5): a procfs instance shows the pid namespace of the process that
  // mounted it.
  plan.mount('proc', '/proc', 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, null, { label: 'mount a /proc of the new pid namespace' });
}

/**
 * The child is born in a new pid namespace: it is PID 1 there. clone(2) with
 * CLONE_NEWPID makes the new process itself the namespace's first process
 * (unshare(2) would only move its future children).
 */
export function pid(options: PidOptions = {}): Feature {
  const mountProc = options.mountProc ?? false;
  return {
    name: 'pid',
    cloneFlags: CLONE.NEWPID | (mountProc ? CLONE.NEWNS : 0),
    ...(mountProc ? { plan: planMountProc } : {}),
  };
}
