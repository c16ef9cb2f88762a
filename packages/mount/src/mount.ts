// One mount(2) call, described as data so that the same description can run
// now, in this process (a cherry-picker's direct call), or later, as a step
// of a child's plan (a container's mounts).
import { MNT, SyscallError, ValidationError, mount as mountNow, umount2 } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';
import { absolute } from './check.ts';

export interface MountCall {
  source: string | null;
  target: string;
  fstype: string | null;
  flags: number;
  data: string | null;
  /** What the call does, in words: errors and `--explain` lead with it. */
  label: string;
  /** An errno name that counts as success (a masked path that does not exist: `'ENOENT'`). */
  tolerate?: string;
  /** What this errno most likely means here, for errors of direct calls. */
  hints?: Readonly<Record<string, string>>;
}

/** Runs the calls in this process, in order. */
export function runMountCalls(calls: readonly MountCall[]): void {
  for (const c of calls) {
    try {
      mountNow(c.source, c.target, c.fstype, c.flags, c.data);
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
      if (c.tolerate === err.errno) continue;
      const hint = c.hints?.[err.errno];
      throw new SyscallError({ step: c.label, syscall: err.syscall, errno: err.errnoNumber, args: err.args, path: c.target, ...(hint ? { hint } : {}), cause: err });
    }
  }
}

/** Adds the calls to a child's plan, in order. */
export function planMountCalls(plan: Plan, calls: readonly MountCall[]): void {
  for (const c of calls) plan.mount(c.source, c.target, c.fstype, c.flags, c.data, { label: c.label, ...(c.tolerate ? { tolerate: c.tolerate } : {}) });
}

export interface MountOptions {
  /** The filesystem type: `'proc'`, `'tmpfs'`, `'ext4'` …; omit for a flags-only call. */
  type?: string;
  /** The device or the filesystem's name in mountinfo; default: the type. */
  source?: string;
  /** The mount point: absolute. */
  target: string;
  /** MS_* flags. */
  flags?: number;
  /** The filesystem's own options, comma-separated (`'mode=755,size=64k'`). */
  data?: string;
}

function mountCall(o: MountOptions): MountCall {
  const target = absolute('mount.target', o.target);
  if (o.flags !== undefined && (!Number.isInteger(o.flags) || o.flags < 0)) throw new ValidationError('mount.flags', `not MS_* flags: ${String(o.flags)}`);
  if (o.data !== undefined && (o.data.includes('\0') || o.data.length >= 4096)) throw new ValidationError('mount.data', 'must be shorter than a page (4096 bytes) and hold no NUL');
  const fstype = o.type ?? null;
  return { source: o.source ?? fstype, target, fstype, flags: o.flags ?? 0, data: o.data ?? null, label: `mount ${fstype ?? o.source} on ${target}` };
}

/** mount(2) now, in this process's mount namespace. `mount -t TYPE -o DATA SOURCE TARGET`. */
export function mount(o: MountOptions): void {
  runMountCalls([mountCall(o)]);
}

/** The same mount(2), as a step of a child's plan. */
export function planMount(plan: Plan, o: MountOptions): void {
  planMountCalls(plan, [mountCall(o)]);
}

/**
 * umount2(2) now. `detach` (MNT_DETACH) removes the mount from the tree at
 * once and frees it when no longer busy. `umount [-l] TARGET`.
 */
export function unmount(target: string, o: { detach?: boolean } = {}): void {
  const t = absolute('unmount.target', target);
  try {
    umount2(t, o.detach ? MNT.DETACH : 0);
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    throw new SyscallError({ step: `unmount ${t}`, syscall: 'umount2', errno: err.errnoNumber, args: err.args, path: t, cause: err });
  }
}
