// The extractor: what each kind of archive entry becomes in the root, and
// in which order its attributes are set. extract.ts feeds it from the
// TarReader; every path it touches goes through DirFds (no symlinks) and a
// single-name *at(2) call.
import { AT, O, errnoName, errnoNumber } from '@nsk/syscall';
import { UnsafeArchiveError, display } from './errors.ts';
import { entryPath, splitPath } from './entry-path.ts';
import { DirFds, fail } from './dir-fds.ts';
import { E, RESOLVE, S_IFBLK, S_IFCHR, S_IFIFO, encodeDev, type Native } from './native.ts';
import { MAX_ID, type ExtractResult, type Options } from './options.ts';
import { emptyFd, removeAt } from './remove-tree.ts';
import type { TarEntry, TarSink, Timespec } from './tar-reader.ts';
import { OVERLAY_OPAQUE_XATTR, whiteoutOf, type Whiteout } from './whiteout.ts';

const FILE_FLAGS = O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW | O.CLOEXEC;
const DIR_FLAGS = O.RDONLY | O.DIRECTORY | O.CLOEXEC;
const DIR_RESOLVE = RESOLVE.IN_ROOT | RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS;

interface DirAttrs {
  uid: number;
  gid: number;
  mode: number;
  mtime: Timespec | null;
  atime: Timespec | null;
  xattrs: Array<[string, Buffer]>;
  entry: string;
}

export class Extractor implements TarSink {
  readonly #n: Native;
  readonly #o: Options;
  readonly #root: number;
  readonly #dirs: DirFds;
  /** Directory attributes, applied at the end (children change a directory's mtime). */
  readonly #pending = new Map<string, DirAttrs>();
  /** 'apply' mode: paths this archive created, which its own whiteouts must spare. */
  readonly #created: Set<string> | null;
  readonly #skipped: { path: string; reason: string }[] = [];
  #entries = 0;
  #bytes = 0;
  /** The regular file being written, or -1 (data of anything else is skipped). */
  #fd = -1;
  #cur: TarEntry | null = null;
  #curPath = '';
  /** The owner a new file gets (the group: unless its directory is set-group-ID). */
  readonly #fsuid = process.geteuid?.() ?? -1;
  readonly #fsgid = process.getegid?.() ?? -1;
  /** The group the current file was created with, or -2 when unknown. */
  #curGid = -2;

  constructor(native: Native, rootFd: number, o: Options) {
    this.#n = native;
    this.#o = o;
    this.#root = rootFd;
    this.#created = o.whiteouts === 'apply' ? new Set() : null;
    this.#dirs = new DirFds(native, rootFd, (path) => {
      // A missing parent made on the way: root-owned (in the container's
      // terms) and 0755, as tar makes them.
      this.#pending.set(path, { uid: o.uidShift, gid: o.gidShift, mode: 0o755, mtime: null, atime: null, xattrs: [], entry: path });
      this.#created?.add(path);
    });
  }

  result(): ExtractResult {
    return { entries: this.#entries, bytes: this.#bytes, skipped: this.#skipped };
  }

  close(): void {
    if (this.#fd >= 0) this.#n.close(this.#fd);
    this.#fd = -1;
    this.#dirs.closeAll();
    this.#n.close(this.#root);
  }

  #skip(path: string, reason: string): void {
    this.#skipped.push({ path: display(path), reason });
  }

  // --- TarSink -------------------------------------------------------------

  entry(e: TarEntry): void {
    this.#dirs.nextOp();
    if (++this.#entries > this.#o.maxEntries) {
      throw new UnsafeArchiveError(display(e.name), `the archive has more than ${this.#o.maxEntries} entries (limits.maxEntries)`);
    }
    const t = e.typeflag;
    if (e.sparse !== null || t === 'S') {
      const size = e.sparse !== null && !Number.isNaN(e.sparse) ? `${e.sparse} bytes` : 'unknown size';
      throw new UnsafeArchiveError(display(e.name), `a sparse file (real size ${size}); sparse entries are not extracted: their real size is not bounded by the archive's`);
    }
    if (t === 'V') return this.#skip(e.name, 'a GNU volume label, not a file');
    if (t === 'M') throw new UnsafeArchiveError(display(e.name), 'a GNU multi-volume continuation (the archive is one volume of several)');
    const path = entryPath(e.name);
    const [parent, base] = splitPath(path);
    const wh = whiteoutOf(path, base, e.name);
    if (wh !== null) return this.#whiteout(wh, path, parent, e);
    if (path === '' && t !== '5' && t !== 'D') throw new UnsafeArchiveError(display(e.name), 'it names the root directory itself but is not a directory');
    switch (t) {
      case '0': case '7': return this.#file(e, path, parent, base);
      case '5': case 'D': return this.#directory(e, path, parent, base);
      case '1': return this.#hardlink(e, path, parent, base);
      case '2': return this.#symlink(e, path, parent, base);
      case '3': case '4': case '6': return this.#node(e, path, parent, base);
      default: return this.#skip(path, `unknown entry type '${t}' (data skipped)`);
    }
  }

  data(chunk: Buffer): void {
    if (this.#fd < 0) return;
    const r = this.#n.writeAll(this.#fd, chunk);
    if (r < 0) throw fail('write', r, this.#curPath, this.#cur!.name);
  }

  end(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    const e = this.#cur!;
    try {
      // A new file is owned by our fsuid and fsgid (or its directory's
      // group): a chown to that would change nothing.
      if (this.#uid(e) !== this.#fsuid || this.#gid(e) !== this.#curGid) this.#chown(fd, null, e, this.#curPath);
      this.#check(this.#n.fchmod(fd, e.mode & 0o7777), 'fchmod', this.#curPath, e.name);
      this.#xattrs(fd, null, e.xattrs, this.#curPath);
      this.#check(this.#n.utimensat(fd, null, e.atime ?? e.mtime, e.mtime, 0), 'utimensat', this.#curPath, e.name);
    } finally {
      this.#n.close(fd);
    }
  }

  /** Directory attributes, deepest first (a 0500 parent must not stop a child's chown). */
  finish(): void {
    const all = [...this.#pending].reverse();
    this.#pending.clear();
    for (const [path, a] of all) {
      this.#dirs.nextOp();
      let fd: number;
      try {
        fd = this.#dirs.get(path, false, a.entry);
      } catch (err) {
        if (err instanceof UnsafeArchiveError) continue; // replaced by a symlink since
        throw err;
      }
      if (fd < 0) continue; // removed since
      const uid = a.uid;
      const gid = a.gid;
      const r = this.#n.fchown(fd, uid, gid);
      if (r < 0) throw fail('fchown', r, path, a.entry, chownHint(r, uid, gid));
      this.#check(this.#n.fchmod(fd, a.mode & 0o7777), 'fchmod', path, a.entry);
      this.#xattrs(fd, null, a.xattrs, path);
      if (a.mtime !== null) this.#check(this.#n.utimensat(fd, null, a.atime ?? a.mtime, a.mtime, 0), 'utimensat', path, a.entry);
    }
  }

  // --- entry kinds ---------------------------------------------------------

  #file(e: TarEntry, path: string, parent: string, base: string): void {
    if (e.size > this.#o.maxBytes - this.#bytes) {
      throw new UnsafeArchiveError(display(e.name), `its ${e.size} bytes would take the archive past ${this.#o.maxBytes} bytes (limits.maxBytes)`);
    }
    const pfd = this.#dirs.get(parent, true, e.name);
    let fd = this.#n.openat(pfd, base, FILE_FLAGS, 0o600);
    if (fd === -E.EEXIST) {
      this.#clear(pfd, base, path, e.name);
      fd = this.#n.openat(pfd, base, FILE_FLAGS, 0o600);
    }
    if (fd < 0) throw fail('openat', fd, path, e.name);
    const inherit = this.#dirs.inheritGid(parent);
    this.#curGid = inherit === -1 ? this.#fsgid : inherit;
    this.#bytes += e.size;
    this.#fd = fd;
    this.#cur = e;
    this.#curPath = path;
    this.#created?.add(path);
  }

  #directory(e: TarEntry, path: string, parent: string, base: string): void {
    const attrs: DirAttrs = {
      uid: this.#uid(e), gid: this.#gid(e), mode: e.mode, mtime: e.mtime, atime: e.atime, xattrs: e.xattrs, entry: e.name,
    };
    if (path !== '') {
      const pfd = this.#dirs.get(parent, true, e.name);
      let r = this.#n.mkdirat(pfd, base, 0o700);
      if (r === -E.EEXIST) {
        // A directory there is kept (layers merge into it); anything else,
        // a symlink included, is replaced.
        const fd = this.#n.openat2(pfd, base, DIR_FLAGS, DIR_RESOLVE);
        if (fd >= 0) {
          this.#n.close(fd);
          r = 0;
        } else {
          this.#clear(pfd, base, path, e.name);
          r = this.#n.mkdirat(pfd, base, 0o700);
        }
      }
      if (r < 0) throw fail('mkdirat', r, path, e.name);
    }
    this.#pending.set(path, attrs);
    this.#created?.add(path);
  }

  #hardlink(e: TarEntry, path: string, parent: string, base: string): void {
    const target = entryPath(e.linkname, `its hard link target (${JSON.stringify(display(e.linkname))})`, e.name);
    const name = display(e.name);
    if (target === '') throw new UnsafeArchiveError(name, 'a hard link to the root directory');
    if (target === path) return; // a link to itself: already there
    const [tparent, tbase] = splitPath(target);
    const pfd = this.#dirs.get(parent, true, e.name);
    const tfd = this.#dirs.get(tparent, false, e.name);
    const missing = () => new UnsafeArchiveError(name, `its hard link target "${display(target)}" does not exist in the root (a hard link may only point at an entry extracted before it)`);
    if (tfd < 0) throw missing();
    let r = this.#n.linkat(tfd, tbase, pfd, base);
    if (r === -E.EEXIST) {
      this.#clear(pfd, base, path, e.name);
      r = this.#n.linkat(tfd, tbase, pfd, base);
    }
    if (r === -E.ENOENT) throw missing();
    if (r === -E.EPERM) throw new UnsafeArchiveError(name, `its hard link target "${display(target)}" is a directory (or linking to it is not permitted)`);
    if (r < 0) throw fail('linkat', r, path, e.name);
    this.#created?.add(path);
  }

  #symlink(e: TarEntry, path: string, parent: string, base: string): void {
    if (e.linkname === '') throw new UnsafeArchiveError(display(e.name), 'a symlink with an empty target');
    if (e.linkname.includes('\0')) throw new UnsafeArchiveError(display(e.name), 'a symlink target with a NUL byte');
    const pfd = this.#dirs.get(parent, true, e.name);
    let r = this.#n.symlinkat(e.linkname, pfd, base);
    if (r === -E.EEXIST) {
      this.#clear(pfd, base, path, e.name);
      r = this.#n.symlinkat(e.linkname, pfd, base);
    }
    if (r < 0) throw fail('symlinkat', r, path, e.name);
    // The link itself, never its target: AT_SYMLINK_NOFOLLOW.
    this.#chown(pfd, base, e, path);
    this.#xattrs(-1, `/proc/self/fd/${pfd}/${base}`, e.xattrs, path);
    this.#check(this.#n.utimensat(pfd, base, e.atime ?? e.mtime, e.mtime, AT.SYMLINK_NOFOLLOW), 'utimensat', path, e.name);
    this.#created?.add(path);
  }

  #node(e: TarEntry, path: string, parent: string, base: string): void {
    const t = e.typeflag;
    const type = t === '3' ? S_IFCHR : t === '4' ? S_IFBLK : S_IFIFO;
    const dev = t === '6' ? 0 : encodeDev(e.devmajor, e.devminor);
    const pfd = this.#dirs.get(parent, true, e.name);
    let r = this.#n.mknodat(pfd, base, type | (e.mode & 0o777), dev);
    if (r === -E.EEXIST) {
      this.#clear(pfd, base, path, e.name);
      r = this.#n.mknodat(pfd, base, type | (e.mode & 0o777), dev);
    }
    if (r === -E.EPERM && t !== '6') {
      // mknod(2): device nodes need CAP_MKNOD (in the initial user namespace).
      const kind = t === '3' ? 'character device' : 'block device';
      return this.#skip(path, `${kind} ${e.devmajor}:${e.devminor} not created: mknodat(2) needs CAP_MKNOD (EPERM)`);
    }
    if (r < 0) throw fail('mknodat', r, path, e.name);
    this.#chown(pfd, base, e, path);
    // chown(2) clears setuid/setgid, and the umask trimmed the mode: set it
    // now. fchmodat follows a symlink, but this name was just made a node.
    this.#check(this.#n.fchmodat(pfd, base, e.mode & 0o7777), 'fchmodat', path, e.name);
    this.#xattrs(-1, `/proc/self/fd/${pfd}/${base}`, e.xattrs, path);
    this.#check(this.#n.utimensat(pfd, base, e.atime ?? e.mtime, e.mtime, AT.SYMLINK_NOFOLLOW), 'utimensat', path, e.name);
    this.#created?.add(path);
  }

  #whiteout(wh: Whiteout, path: string, parent: string, e: TarEntry): void {
    if (wh.kind === 'aufs-meta') return this.#skip(path, 'AUFS metadata (.wh..wh.*), meaningless outside AUFS');
    if (this.#o.whiteouts === 'overlay') {
      const pfd = this.#dirs.get(parent, true, e.name);
      if (wh.kind === 'opaque') {
        const r = this.#n.setxattr(pfd, null, OVERLAY_OPAQUE_XATTR, OPAQUE_VALUE);
        if (r < 0) throw fail('fsetxattr', r, parent, e.name, 'marking a directory opaque for overlayfs needs CAP_SYS_ADMIN (trusted.* xattrs)');
        return;
      }
      const r = this.#n.mknodat(pfd, wh.target, S_IFCHR, 0);
      if (r === -E.EEXIST) {
        // OCI image spec: a whiteout only hides what the layers below have;
        // this layer's own NAME stays (and already hides them).
        return this.#skip(path, `whiteout ignored: "${display(wh.target)}" is in this same layer`);
      }
      if (r < 0) {
        throw fail('mknodat', r, parent === '' ? wh.target : `${parent}/${wh.target}`, e.name,
          r === -E.EPERM ? 'an overlayfs whiteout is a character device 0:0; making one needs CAP_MKNOD (Linux ≥ 5.8 allows it in a user namespace)' : undefined);
      }
      return;
    }
    const created = this.#created!;
    if (wh.kind === 'opaque') {
      // Everything below that this archive did not create goes.
      const pfd = this.#dirs.get(parent, true, e.name);
      emptyFd(this.#n, pfd, parent, e.name, (p) => !created.has(p), (p, kind) => this.#removed(p, kind));
      return;
    }
    const target = parent === '' ? wh.target : `${parent}/${wh.target}`;
    if (created.has(target)) return this.#skip(path, `whiteout ignored: "${display(target)}" is in this same layer`);
    // The whiteout's directory exists in this layer, as in overlay mode.
    const pfd = this.#dirs.get(parent, true, e.name);
    this.#clear(pfd, wh.target, target, e.name);
  }

  // --- helpers -------------------------------------------------------------

  /** Removes whatever is at `base` in `pfd` (a directory with its contents). */
  #clear(pfd: number, base: string, path: string, entry: string): void {
    this.#removed(path, removeAt(this.#n, pfd, base, path, entry));
  }

  #removed(path: string, kind: 'dir' | 'file' | 'none'): void {
    if (kind !== 'dir') return;
    this.#dirs.forget(path);
    const prefix = `${path}/`;
    for (const p of this.#pending.keys()) if (p === path || p.startsWith(prefix)) this.#pending.delete(p);
  }

  #uid(e: TarEntry): number {
    const id = e.uid + this.#o.uidShift;
    if (id > MAX_ID) throw new UnsafeArchiveError(display(e.name), `its uid ${e.uid} + idShift ${this.#o.uidShift} is past the largest uid`);
    return id;
  }

  #gid(e: TarEntry): number {
    const id = e.gid + this.#o.gidShift;
    if (id > MAX_ID) throw new UnsafeArchiveError(display(e.name), `its gid ${e.gid} + idShift ${this.#o.gidShift} is past the largest gid`);
    return id;
  }

  /** fchown(fd), or fchownat(fd, name, AT_SYMLINK_NOFOLLOW) when `name` is given. */
  #chown(fd: number, name: string | null, e: TarEntry, path: string): void {
    const uid = this.#uid(e);
    const gid = this.#gid(e);
    const r = name === null ? this.#n.fchown(fd, uid, gid) : this.#n.fchownat(fd, name, uid, gid, AT.SYMLINK_NOFOLLOW);
    if (r < 0) throw fail(name === null ? 'fchown' : 'fchownat', r, path, e.name, chownHint(r, uid, gid));
  }

  #xattrs(fd: number, linkPath: string | null, xattrs: Array<[string, Buffer]>, path: string): void {
    for (const [name, value] of xattrs) {
      if (name.includes('\0')) {
        this.#skip(path, `xattr ${JSON.stringify(display(name))} not set: its name has a NUL byte`);
        continue;
      }
      if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) {
        // overlayfs reads these as its own metadata (redirects, opaque dirs):
        // only this extractor's whiteout handling may write them.
        this.#skip(path, `xattr ${display(name)} not set: overlayfs metadata is never taken from an archive`);
        continue;
      }
      const r = this.#n.setxattr(fd, linkPath, name, value);
      if (r < 0) this.#skip(path, `xattr ${display(name)} not set: ${linkPath === null ? 'fsetxattr' : 'lsetxattr'}: ${errnoName(-r)}`);
    }
  }

  #check(r: number, syscall: string, path: string, entry: string): void {
    if (r < 0) throw fail(syscall, r, path, entry);
  }
}

const OPAQUE_VALUE = Buffer.from('y');

function chownHint(r: number, uid: number, gid: number): string | undefined {
  if (r === -E.EPERM) return `changing ownership to ${uid}:${gid} needs CAP_CHOWN: run as root, or in a user namespace that maps these ids`;
  if (r === -errnoNumber('EINVAL')) return `uid ${uid} or gid ${gid} is not mapped in this user namespace`;
  return undefined;
}
