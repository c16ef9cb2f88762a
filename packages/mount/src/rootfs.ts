// Switching the child's root to a directory: mount_namespaces(7), pivot_root(2).
import { MNT, MS, CLONE, ValidationError } from '@nsk/syscall';
import type { Feature, Plan } from '@nsk/clone';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { planDev } from './dev.ts';
import { planProc } from './proc.ts';

export interface RootfsOptions {
  /** The directory that becomes `/`: absolute, existing. */
  path: string;
  /** Mount the root read-only (a tmpfs is mounted on /tmp for writes). Default false. */
  readonly?: boolean;
  /** Mount /proc (for a new pid namespace: its own). Default true. */
  proc?: boolean;
  /** A minimal /dev: null, zero, full, random, urandom, tty, pts, shm. Default true. */
  dev?: boolean;
}

/** Adds the steps that make `path` the child's root filesystem. */
export function planPivotRoot(plan: Plan, o: RootfsOptions): void {
  const root = o.path;
  // mount_namespaces(7): a new mount namespace copies the host's propagation;
  // if / is shared, our mounts would appear on the host. Make all private.
  plan.mount(null, '/', null, MS.REC | MS.PRIVATE, null, { label: 'make every mount private, so nothing propagates to the host' });
  // pivot_root(2): new_root must be a mount point; bind it onto itself.
  plan.mount(root, root, null, MS.BIND | MS.REC, null, { label: `bind ${root} onto itself (pivot_root needs a mount point)` });
  if (o.dev ?? true) planDev(plan, root);
  if (o.readonly) {
    // mount(2): a bind mount ignores MS_RDONLY on creation; remount it.
    plan.mount(null, root, null, MS.REMOUNT | MS.BIND | MS.RDONLY, null, { label: `make ${root} read-only` });
    plan.mount('tmpfs', `${root}/tmp`, 'tmpfs', MS.NOSUID | MS.NODEV, 'mode=1777', { label: 'mount a writable tmpfs on /tmp' });
  }
  plan.chdir(root);
  // pivot_root(2) NOTES: pivot_root(".", ".") stacks the old root on top of
  // the new one at "/"; unmounting "." then removes the old root, with no
  // directory needed to put it in.
  plan.pivotRoot('.', '.', { label: `make ${root} the root` });
  plan.umount2('.', MNT.DETACH, { label: 'detach the old root' });
  plan.chdir('/');
  if (o.proc ?? true) planProc(plan);
}

function check(o: RootfsOptions): void {
  if (typeof o.path !== 'string' || !isAbsolute(o.path)) throw new ValidationError('rootfs.path', `must be an absolute path: ${String(o.path)}`);
  if (!existsSync(o.path) || !statSync(o.path).isDirectory()) throw new ValidationError('rootfs.path', `${o.path} is not a directory`);
  for (const dir of ['proc', 'dev', 'tmp']) {
    if (!existsSync(`${o.path}/${dir}`)) throw new ValidationError('rootfs.path', `${o.path} has no /${dir} directory to mount on`);
  }
}

/** A Feature: a new mount namespace whose root is `path`. `mount --make-rprivate /; pivot_root`. */
export function rootfs(o: RootfsOptions): Feature {
  check(o);
  return {
    name: 'rootfs',
    cloneFlags: CLONE.NEWNS,
    plan: (plan) => planPivotRoot(plan, o),
  };
}
