// /proc for the child: proc(5).
import { MS } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';
import { absolute } from './check.ts';

/**
 * Mounts proc at `at` (nosuid, nodev, noexec). proc(5): a procfs shows the
 * pid namespace of the process that mounts it, so a child in a new pid
 * namespace sees itself as 1.
 *
 * In a user namespace two more rules hold: user_namespaces(7), the user
 * namespace must own the pid namespace (so a new pid namespace too); and
 * fs/namespace.c mount_too_revealing(), a proc must already be fully visible
 * in the mount namespace — so mount it before pivot_root(2) takes the
 * host's /proc away.
 */
export function planProc(plan: Plan, at = '/proc'): void {
  const target = absolute('proc.at', at);
  plan.mount('proc', target, 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, null, { label: `mount the child’s own proc on ${target}` });
}
