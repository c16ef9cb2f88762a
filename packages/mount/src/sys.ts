// /sys for the child, read-only: sysfs(5).
import { MS } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';
import { absolute } from './check.ts';
import { planBind } from './bind.ts';

/**
 * - `'sysfs'`: a new sysfs. It shows the network devices of the network
 *   namespace of the process that mounts it, and fs/sysfs/mount.c lets it be
 *   mounted only with CAP_SYS_ADMIN in the user namespace that owns that
 *   network namespace: inside a user namespace, only with a new network
 *   namespace too (else EPERM).
 * - `'bind'`: the host's /sys, bound read-only with the mounts below it, for
 *   a child in a user namespace that shares the host's network namespace. It
 *   then shows the host's devices, as it would anyway.
 */
export type SysMode = 'sysfs' | 'bind';

/** Mounts a read-only /sys at `at`; before pivot_root (a bind needs the host's /sys in reach). */
export function planSys(plan: Plan, at: string, mode: SysMode = 'sysfs'): void {
  const target = absolute('sys.at', at);
  const flags = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  if (mode === 'bind') {
    planBind(plan, { source: '/sys', target, recursive: true, readonly: true, flags });
    return;
  }
  plan.mount('sysfs', target, 'sysfs', MS.RDONLY | flags, null, {
    label: `mount a read-only sysfs on ${target} (in a user namespace this needs a new network namespace)`,
  });
}
