// Directory fds inside the extraction root, opened without ever following a
// symlink, and kept in a small cache.
//
// openat2(2) with RESOLVE_NO_SYMLINKS fails with ELOOP when any component
// is a symlink, RESOLVE_IN_ROOT keeps ".." and absolute paths inside the
// directory fd (entry names never have them; this is the second wall), and
// RESOLVE_NO_MAGICLINKS refuses /proc-style links. So a directory fd here is
// always a real directory below the root, and every later *at(2) call made
// relative to it with a single name stays there too.
//
// Archives list a directory's entries together, so a cache of the last few
// dozen directory fds saves almost every lookup. A cached fd stays valid
// until extraction replaces or removes that directory (forget()); even a
// stale one points at a directory that was inside the root.
import { fstatSync } from 'node:fs';
import { O, SyscallError } from '@nsk/syscall';
import { UnsafeArchiveError, display } from './errors.ts';
import { E, RESOLVE, type Native } from './native.ts';
import { splitPath } from './entry-path.ts';

const DIR_FLAGS = O.RDONLY | O.DIRECTORY | O.CLOEXEC;
const RESOLVE_FLAGS = RESOLVE.IN_ROOT | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS;
const MAX_CACHED = 64;
/** Longer paths are opened from their parent's fd: openat2 takes at most PATH_MAX. */
const LONG_PATH = 2048;

interface Cached { fd: number; op: number; inheritGid: number }

export class DirFds {
  readonly #native: Native;
  readonly #root: number;
  readonly #cache = new Map<string, Cached>();
  readonly #onCreate: (path: string) => void;
  /** Fds used during the current operation are never evicted before it ends. */
  #op = 0;
  /** The last directory looked up (most entries share their parent with the one before). */
  #lastPath = '';
  #last: Cached | null = null;
  /** The -errno of the last lookup that found nothing. */
  #miss = 0;
  #rootInherit = -2;

  constructor(native: Native, rootFd: number, onCreate: (path: string) => void) {
    this.#native = native;
    this.#root = rootFd;
    this.#onCreate = onCreate;
    this.#rootInherit = inheritGid(rootFd);
  }

  /** Starts a new operation (one archive entry): earlier fds may now be evicted. */
  nextOp(): void {
    this.#op++;
  }

  /**
   * The fd of directory `path` (normal form, '' is the root). With `create`,
   * missing directories are made (mode 0755; `onCreate` is told). Returns
   * -ENOENT or -ENOTDIR when it does not exist (without `create`). Throws
   * UnsafeArchiveError when a component is a symlink (or, with `create`,
   * not a directory), naming `entry`.
   */
  get(path: string, create: boolean, entry: string): number {
    if (path === '') return this.#root;
    return this.#lookup(path, create, entry)?.fd ?? this.#miss;
  }

  /**
   * The group a file created in directory `path` (just returned by get())
   * gets: the directory's gid when it is set-group-ID (inode(7)), else -1
   * (the creator's fsgid).
   */
  inheritGid(path: string): number {
    if (path === '') return this.#rootInherit;
    return this.#lastPath === path && this.#last !== null ? this.#last.inheritGid : (this.#cache.get(path)?.inheritGid ?? -2);
  }

  #lookup(path: string, create: boolean, entry: string): Cached | null {
    if (path === this.#lastPath && this.#last !== null) {
      this.#last.op = this.#op;
      return this.#last;
    }
    const hit = this.#cache.get(path);
    if (hit !== undefined) {
      hit.op = this.#op;
      this.#cache.delete(path);
      this.#cache.set(path, hit);
      this.#lastPath = path;
      this.#last = hit;
      return hit;
    }
    let fd = path.length > LONG_PATH ? -E.ENAMETOOLONG : this.#native.openat2(this.#root, path, DIR_FLAGS, RESOLVE_FLAGS);
    if (fd === -E.ENAMETOOLONG || (fd === -E.ENOENT && create)) fd = this.#viaParent(path, create, entry);
    if (fd < 0) {
      if (!create && (fd === -E.ENOENT || fd === -E.ENOTDIR)) { this.#miss = fd; return null; }
      throw this.#error(fd, path, entry);
    }
    return this.#add(path, fd);
  }

  #viaParent(path: string, create: boolean, entry: string): number {
    const [parent, base] = splitPath(path);
    const pfd = this.get(parent, create, entry);
    if (pfd < 0) return pfd;
    let fd = this.#native.openat2(pfd, base, DIR_FLAGS, RESOLVE_FLAGS);
    if (fd === -E.ENOENT && create) {
      // Like tar, make the missing parents of an entry.
      const r = this.#native.mkdirat(pfd, base, 0o755);
      if (r < 0 && r !== -E.EEXIST) throw fail('mkdirat', r, path, entry);
      if (r === 0) this.#onCreate(path);
      fd = this.#native.openat2(pfd, base, DIR_FLAGS, RESOLVE_FLAGS);
    }
    return fd;
  }

  #error(err: number, path: string, entry: string): Error {
    if (err === -E.ELOOP || err === -E.ENOTDIR) {
      const at = this.#culprit(path, err);
      return err === -E.ELOOP
        ? new UnsafeArchiveError(display(entry), `"${display(at)}" is a symbolic link; nothing is extracted through a symlink`)
        : new UnsafeArchiveError(display(entry), `"${display(at)}" is not a directory`);
    }
    if (err === -E.EXDEV) return new UnsafeArchiveError(display(entry), `"${display(path)}" resolves outside the root`);
    return fail('openat2', err, path, entry);
  }

  /** The first component of `path` whose lookup fails with `err` (for the message). */
  #culprit(path: string, err: number): string {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const fd = this.#native.openat2(this.#root, prefix, DIR_FLAGS, RESOLVE_FLAGS);
      if (fd >= 0) { this.#native.close(fd); continue; }
      if (fd === err) return prefix;
      break;
    }
    return path;
  }

  #add(path: string, fd: number): Cached {
    const c: Cached = { fd, op: this.#op, inheritGid: inheritGid(fd) };
    this.#cache.set(path, c);
    this.#lastPath = path;
    this.#last = c;
    if (this.#cache.size > MAX_CACHED) {
      for (const [p, old] of this.#cache) {
        if (this.#cache.size <= MAX_CACHED) break;
        if (old.op === this.#op) continue;
        if (old === this.#last) { this.#last = null; this.#lastPath = ''; }
        this.#native.close(old.fd);
        this.#cache.delete(p);
      }
    }
    return c;
  }

  /** Drops the fds of `path` and of everything below it (it was removed or replaced). */
  forget(path: string): void {
    this.#lastPath = '';
    this.#last = null;
    const prefix = `${path}/`;
    for (const [p, c] of this.#cache) {
      if (path === '' || p === path || p.startsWith(prefix)) {
        this.#native.close(c.fd);
        this.#cache.delete(p);
      }
    }
  }

  closeAll(): void {
    this.forget('');
  }
}

const S_ISGID = 0o2000;

function inheritGid(fd: number): number {
  const st = fstatSync(fd);
  return st.mode & S_ISGID ? st.gid : -1;
}

/** A SyscallError for a failed *at call made while extracting `entry`. */
export function fail(syscall: string, negErrno: number, path: string, entry: string, hint?: string): SyscallError {
  return new SyscallError({
    syscall, errno: -negErrno, step: `extract ${JSON.stringify(display(entry))}`, path: display(path),
    ...(hint !== undefined ? { hint } : {}),
  });
}
