// tmpfs(5): a filesystem in memory, empty at each mount, gone at unmount.
import { MS, ValidationError } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';
import { absolute } from './check.ts';
import { planMountCalls, runMountCalls, type MountCall } from './mount.ts';

export interface TmpfsOptions {
  /** The mount point: absolute. */
  target: string;
  /** The most it may hold: bytes, or tmpfs(5) notation (`'64m'`, `'10%'`). Default: half of RAM. */
  size?: number | string;
  /** Permissions of its root directory (`0o1777` for a /tmp). Default: tmpfs(5)'s 1777. */
  mode?: number;
  /** MS_* flags. Default MS_NOSUID|MS_NODEV. */
  flags?: number;
  /** The name shown as its source in mountinfo. Default `'tmpfs'`. */
  source?: string;
}

export function tmpfsCall(o: TmpfsOptions, label?: string): MountCall {
  const target = absolute('tmpfs.target', o.target);
  const data: string[] = [];
  if (o.size !== undefined) {
    const ok = typeof o.size === 'number' ? Number.isSafeInteger(o.size) && o.size > 0 : /^[1-9]\d*[kmgtpe%]?$/i.test(o.size);
    // tmpfs(5): size=0 means "no limit", never what a caller of `size` meant.
    if (!ok) throw new ValidationError('tmpfs.size', `not a positive size (bytes, or like '64m', '10%'): ${String(o.size)}`);
    data.push(`size=${o.size}`);
  }
  if (o.mode !== undefined) {
    if (!Number.isInteger(o.mode) || o.mode < 0 || o.mode > 0o7777) throw new ValidationError('tmpfs.mode', `not a permission mode (0 … 0o7777): ${String(o.mode)}`);
    data.push(`mode=${o.mode.toString(8).padStart(4, '0')}`);
  }
  const source = o.source ?? 'tmpfs';
  if (/[\s\0]/.test(source)) throw new ValidationError('tmpfs.source', `no spaces or NULs: ${JSON.stringify(source)}`);
  return {
    source, target, fstype: 'tmpfs', flags: o.flags ?? MS.NOSUID | MS.NODEV, data: data.length ? data.join(',') : null,
    label: label ?? `mount a tmpfs on ${target}`,
  };
}

/** A tmpfs now. `mount -t tmpfs -o size=SIZE,mode=MODE tmpfs TARGET`. */
export function tmpfs(o: TmpfsOptions): void {
  runMountCalls([tmpfsCall(o)]);
}

/** The same tmpfs, as a step of a child's plan. */
export function planTmpfs(plan: Plan, o: TmpfsOptions, label?: string): void {
  planMountCalls(plan, [tmpfsCall(o, label)]);
}
