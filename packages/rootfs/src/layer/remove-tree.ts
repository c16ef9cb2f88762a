// Removing what is in the way of an entry (or what a whiteout names),
// whatever it is: a directory with everything below it. Works through fds
// from a parent directory fd and never follows a symlink: unlinkat(2)
// removes a symlink itself, and a directory is opened with O_NOFOLLOW.
import { readdirSync } from 'node:fs';
import { AT, O } from '@nsk/syscall';
import { E, type Native } from './native.ts';
import { fail } from './dir-fds.ts';

/**
 * Removes `name` in directory `dirfd`. Returns 'dir' when a directory was
 * removed (callers then forget fds below it), 'file' for anything else,
 * 'none' when nothing was there. `path` and `entry` name it in errors.
 */
export function removeAt(native: Native, dirfd: number, name: string, path: string, entry: string): 'dir' | 'file' | 'none' {
  const r = native.unlinkat(dirfd, name, 0);
  if (r === 0) return 'file';
  if (r === -E.ENOENT) return 'none';
  if (r !== -E.EISDIR) throw fail('unlinkat', r, path, entry);
  emptyDir(native, dirfd, name, path, entry, () => true);
  const d = native.unlinkat(dirfd, name, AT.REMOVEDIR);
  if (d < 0) throw fail('unlinkat', d, path, entry);
  return 'dir';
}

/**
 * Removes the children of directory `name` (in `dirfd`) for which `remove`
 * says yes; for a child it says no to that is a directory, descends into it
 * and asks again. `onRemoved` hears of each removed path.
 */
export function emptyDir(
  native: Native, dirfd: number, name: string, path: string, entry: string,
  remove: (childPath: string) => boolean, onRemoved?: (childPath: string, kind: 'dir' | 'file') => void,
): void {
  const fd = native.openat(dirfd, name, O.RDONLY | O.DIRECTORY | O.NOFOLLOW | O.CLOEXEC, 0);
  if (fd < 0) throw fail('openat', fd, path, entry);
  try {
    emptyFd(native, fd, path, entry, remove, onRemoved);
  } finally {
    native.close(fd);
  }
}

/** emptyDir() for an open directory fd. */
export function emptyFd(
  native: Native, fd: number, path: string, entry: string,
  remove: (childPath: string) => boolean, onRemoved?: (childPath: string, kind: 'dir' | 'file') => void,
): void {
  // The magic link names the directory we hold; readdir reads it, nothing more.
  for (const raw of readdirSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' })) {
    const child = raw.toString('latin1', 0, raw.length);
    const childPath = path === '' ? child : `${path}/${child}`;
    if (remove(childPath)) {
      const kind = removeAt(native, fd, child, childPath, entry);
      if (kind !== 'none') onRemoved?.(childPath, kind);
      continue;
    }
    const sub = native.openat(fd, child, O.RDONLY | O.DIRECTORY | O.NOFOLLOW | O.CLOEXEC, 0);
    if (sub === -E.ENOTDIR || sub === -E.ELOOP || sub === -E.ENOENT) continue;
    if (sub < 0) throw fail('openat', sub, childPath, entry);
    try {
      emptyFd(native, sub, childPath, entry, remove, onRemoved);
    } finally {
      native.close(sub);
    }
  }
}
