// The per-mount flags of the mount a path lies on, as this process sees it.
//
// mount(2), EPERM: "an attempt was made to modify (MS_REMOUNT) the
// MS_RDONLY, MS_NOSUID, or MS_NOEXEC flag, or one of the "atime" flags
// (MS_NOATIME, MS_NODIRATIME, MS_RELATIME) of an existing mount, but the
// mount is locked" — mount_namespaces(7): mounts copied into a namespace
// owned by a less privileged user namespace have these flags locked. A
// read-only remount of a bind mount replaces every per-mount flag, so it must
// repeat the source's nosuid/nodev/noexec or be refused (and outside a user
// namespace, silently drop them). The atime flags are kept by the kernel
// itself when a remount names none of them.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { MS, NskError, O } from '@nsk/syscall';
import { readMountInfo, type MountInfo } from './mountinfo.ts';

/** The flags a read-only remount must repeat. */
export const KEPT_FLAGS = MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOSYMFOLLOW;

const OPTION_FLAGS: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, nosymfollow: MS.NOSYMFOLLOW,
  noatime: MS.NOATIME, nodiratime: MS.NODIRATIME, relatime: MS.RELATIME,
};

/** mountinfo per-mount options (`rw,nosuid,relatime`) → MS_* bits. */
export function optionFlags(options: readonly string[]): number {
  return options.reduce((bits, o) => bits | (OPTION_FLAGS[o] ?? 0), 0);
}

/** `MS_NOSUID|MS_NODEV` → `['nosuid', 'nodev']` (for step labels). */
export function flagWords(bits: number): string[] {
  return Object.entries(OPTION_FLAGS).filter(([, b]) => (bits & b) === b).map(([w]) => w);
}

/**
 * The mount that holds `path` (following symlinks): its id comes from
 * /proc/self/fdinfo of an O_PATH descriptor (proc(5) "mnt_id"), so stacked
 * and bind mounts are told apart where a longest-prefix match would guess.
 */
export function mountOf(path: string): MountInfo {
  const fd = openSync(path, O.PATH | O.CLOEXEC);
  let id: number;
  try {
    const m = /^mnt_id:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (!m) throw new NskError(`no mnt_id in /proc/self/fdinfo/${fd}`, 'ERR_NSK_MOUNTINFO');
    id = Number(m[1]);
  } finally {
    closeSync(fd);
  }
  const mount = readMountInfo().find((x) => x.id === id);
  if (!mount) throw new NskError(`mount ${id} holding ${path} is not in /proc/self/mountinfo`, 'ERR_NSK_MOUNTINFO');
  return mount;
}

/** The flags of `path`'s mount that a read-only remount of a bind of it must keep. */
export function keptFlags(path: string): number {
  return optionFlags(mountOf(path).options) & KEPT_FLAGS;
}

/** Mounts strictly below `dir` (what MS_REC copies along), in mountinfo order. */
export function submounts(dir: string): MountInfo[] {
  const prefix = dir === '/' ? '/' : `${dir}/`;
  return readMountInfo().filter((m) => m.mountPoint.startsWith(prefix) && m.mountPoint !== dir);
}
