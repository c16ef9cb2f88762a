// Switching the child's root the old way: chroot(2).
import type { Plan } from '@nsk/clone';
import { absolute } from './check.ts';

/**
 * Changes the child's root directory to `newRoot`. Only for roots that
 * pivot_root(2) refuses (an initramfs, whose rootfs cannot be unmounted):
 * chroot(2) changes where "/" resolves for this process and nothing else.
 * The host's mounts stay in the namespace — setns(2) into it lands at the
 * host's root — and a process with CAP_SYS_CHROOT can climb out (chroot(2)
 * NOTES: "This call does not change the current working directory").
 */
export function planChroot(plan: Plan, newRoot: string): void {
  const root = absolute('chroot.newRoot', newRoot);
  plan.chdir(root, { label: `enter ${root}, the new root` });
  plan.chroot('.', { label: `make ${root} the root directory (the host's mounts stay in the namespace)` });
  plan.chdir('/', { label: 'go to the new /' });
}
