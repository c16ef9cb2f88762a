import { MS } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';

/**
 * Mounts proc on /proc. proc(5): a procfs shows the pid namespace of the
 * process that mounted it, so a child in a new pid namespace sees itself as 1.
 */
export function planProc(plan: Plan, at = '/proc'): void {
  plan.mount('proc', at, 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC);
}
