// Resolving a container path inside a root directory from outside it.
//
// Before pivot_root the child still resolves paths from the host's "/": a
// symlink in the rootfs (`/data -> /etc`) would make a bind or a mkdir land
// on the host's /etc. So symlinks are resolved here, in the parent, as the
// container would see them: an absolute link restarts at the rootfs, ".."
// never climbs above it (what openat2(2) RESOLVE_IN_ROOT does in the kernel).
import { lstatSync, readlinkSync } from 'node:fs';
import { ValidationError } from '@nsk/syscall';

/** path_resolution(7): at most 40 symlinks are followed in one lookup. */
const MAX_LINKS = 40;

/**
 * The container path `path` with every symlink of `root` resolved, as far
 * as it exists; the rest is kept as given. Returns a path relative to the
 * container's "/" (`/var/run/x` → `/run/x`).
 */
export function resolveIn(root: string, path: string, field = 'path'): string {
  const rest = path.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (rest.length > 0) {
    const part = rest.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = `${root}/${[...done, part].join('/')}`;
    let isLink = false;
    try {
      isLink = lstatSync(host).isSymbolicLink();
    } catch {
      // Missing (or below a file): nothing further can be a symlink.
    }
    if (!isLink) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new ValidationError(field, `too many levels of symbolic links in ${root} resolving ${path}`);
    const target = readlinkSync(host);
    if (target.startsWith('/')) done.length = 0;
    rest.unshift(...target.split('/').filter(Boolean));
  }
  return `/${done.join('/')}`;
}
