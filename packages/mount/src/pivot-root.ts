// Switching the child's root: pivot_root(2).
import { MNT } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';
import { absolute } from './check.ts';

/**
 * Makes `newRoot` the root of the child's mount namespace and removes the old
 * root from it entirely, so nothing of the host's tree stays reachable (even
 * by setns(2) into the namespace, which lands at its root mount).
 *
 * pivot_root(2): `newRoot` must be a mount point (bind it onto itself first),
 * and neither it, its parent mount nor the current root may be shared (make
 * them private or slave first). Runs in the child, after its mounts are made.
 */
export function planPivotRoot(plan: Plan, newRoot: string): void {
  const root = absolute('pivotRoot.newRoot', newRoot);
  plan.chdir(root, { label: `enter ${root}, the new root` });
  // pivot_root(2) NOTES: pivot_root(".", ".") stacks the old root on top of
  // the new one at "/"; unmounting "." then takes the old root away, with no
  // put_old directory to make in the rootfs and remove afterwards.
  plan.pivotRoot('.', '.', { label: `make ${root} the root; the old root is stacked on top of it` });
  // umount2(2): MNT_DETACH takes the whole old tree out at once, even where
  // some of its mounts are busy.
  plan.umount2('.', MNT.DETACH, { label: 'detach the old root and every mount below it' });
  plan.chdir('/', { label: 'go to the new /' });
}
