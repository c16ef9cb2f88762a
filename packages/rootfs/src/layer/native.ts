// The *at(2) system calls extraction makes, relative to directory fds.
//
// Every name passed here is one path component (or, for openat2, a path
// resolved under RESOLVE_* rules), so no call can wander through a symlink
// the archive planted. Calls return the result, or -errno: the callers
// expect EEXIST and ENOENT often and decide what they mean, without the
// cost of an exception per entry. Strings and structs are written into one
// scratch page (mmap'd, so the kernel gets a stable address) right before
// each call; nothing is awaited in between.
import { Arena, errnoNumber, hostArch, lastErrno, libc, sysno, type Arch } from '@nsk/syscall';

/**
 * Calls @nsk/syscall's table lacks (numbers from asm/unistd_64.h and
 * asm-generic/unistd.h). TODO(lead): add them to sysno-table.ts.
 */
const EXTRA: Record<Arch, { fsetxattr: number; lsetxattr: number; utimensat: number }> = {
  x86_64: { fsetxattr: 190, lsetxattr: 189, utimensat: 280 },
  aarch64: { fsetxattr: 7, lsetxattr: 6, utimensat: 88 },
};

/** linux/openat2.h */
export const RESOLVE = { NO_XDEV: 0x01, NO_MAGICLINKS: 0x02, NO_SYMLINKS: 0x04, BENEATH: 0x08, IN_ROOT: 0x10 } as const;
/** sys/stat.h file types, for mknodat(2). */
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
/** utimensat(2): leave this time as it is. */
const UTIME_OMIT = (1 << 30) - 2;

export const E = {
  ENOENT: errnoNumber('ENOENT'), EEXIST: errnoNumber('EEXIST'), EISDIR: errnoNumber('EISDIR'),
  ENOTDIR: errnoNumber('ENOTDIR'), ELOOP: errnoNumber('ELOOP'), EPERM: errnoNumber('EPERM'),
  ENOTEMPTY: errnoNumber('ENOTEMPTY'), EXDEV: errnoNumber('EXDEV'), ENAMETOOLONG: errnoNumber('ENAMETOOLONG'),
  EINTR: errnoNumber('EINTR'), EOPNOTSUPP: errnoNumber('EOPNOTSUPP'), EACCES: errnoNumber('EACCES'),
} as const;

const PATH_SLOT = 4104; // PATH_MAX (4096) + NUL, rounded to 8
const A = 0;
const B = PATH_SLOT;
const HOW = 2 * PATH_SLOT; // struct open_how { u64 flags, mode, resolve }
const TIMES = HOW + 24; // struct timespec[2]
const XNAME = TIMES + 32; // XATTR_NAME_MAX 255 + NUL
const XVALUE = XNAME + 256; // XATTR_SIZE_MAX 65536
const SIZE = XVALUE + 65536;

const nr = {
  openat: sysno('openat'), openat2: sysno('openat2'), mkdirat: sysno('mkdirat'), mknodat: sysno('mknodat'),
  symlinkat: sysno('symlinkat'), linkat: sysno('linkat'), unlinkat: sysno('unlinkat'), fchown: sysno('fchown'),
  fchownat: sysno('fchownat'), fchmod: sysno('fchmod'), fchmodat: sysno('fchmodat'),
  ...EXTRA[hostArch],
};

export class Native {
  readonly #arena: Arena;
  readonly #buf: Buffer;
  readonly #i32: Int32Array;
  readonly #u32: Uint32Array;
  readonly #a: bigint;
  readonly #b: bigint;
  readonly #how: bigint;
  readonly #times: bigint;
  readonly #xname: bigint;
  readonly #xvalue: bigint;
  readonly #libc = libc();
  readonly #call = this.#libc.syscall;

  constructor() {
    this.#arena = Arena.map(SIZE);
    const bytes = this.#arena.bytes;
    this.#buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#i32 = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    this.#u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    const at = this.#arena.address;
    this.#a = at + BigInt(A);
    this.#b = at + BigInt(B);
    this.#how = at + BigInt(HOW);
    this.#times = at + BigInt(TIMES);
    this.#xname = at + BigInt(XNAME);
    this.#xvalue = at + BigInt(XVALUE);
  }

  release(): void {
    this.#arena.release();
  }

  /** Writes a binary string and its NUL at `off`; false when it does not fit. */
  #str(s: string, off: number, max: number): boolean {
    if (s.length >= max) return false;
    this.#buf.write(s, off, 'latin1');
    this.#buf[off + s.length] = 0;
    return true;
  }

  #sys(n: number, a0: number | bigint, a1: number | bigint = 0, a2: number | bigint = 0, a3: number | bigint = 0, a4: number | bigint = 0): number {
    const r = Number(this.#call(n, a0, a1, a2, a3, a4, 0));
    return r === -1 ? -lastErrno() : r;
  }

  openat(dirfd: number, name: string, flags: number, mode: number): number {
    if (!this.#str(name, A, PATH_SLOT)) return -E.ENAMETOOLONG;
    return this.#sys(nr.openat, dirfd, this.#a, flags, mode);
  }

  /** openat2(2) with `resolve` (RESOLVE_*) restricting how `path` is walked. */
  openat2(dirfd: number, path: string, flags: number, resolve: number): number {
    if (!this.#str(path, A, PATH_SLOT)) return -E.ENAMETOOLONG;
    const w = HOW >> 2;
    this.#u32[w] = flags >>> 0; this.#u32[w + 1] = 0; // flags
    this.#u32[w + 2] = 0; this.#u32[w + 3] = 0; // mode
    this.#u32[w + 4] = resolve; this.#u32[w + 5] = 0; // resolve
    return this.#sys(nr.openat2, dirfd, this.#a, this.#how, 24);
  }

  mkdirat(dirfd: number, name: string, mode: number): number {
    if (!this.#str(name, A, PATH_SLOT)) return -E.ENAMETOOLONG;
    return this.#sys(nr.mkdirat, dirfd, this.#a, mode);
  }

  /** mknodat(2); `dev` in the kernel's u32 encoding (see `encodeDev`). */
  mknodat(dirfd: number, name: string, mode: number, dev: number): number {
    if (!this.#str(name, A, PATH_SLOT)) return -E.ENAMETOOLONG;
    return this.#sys(nr.mknodat, dirfd, this.#a, mode, dev);
  }

  symlinkat(target: string, dirfd: number, name: string): number {
    if (!this.#str(target, B, PATH_SLOT) || !this.#str(name, A, PATH_SLOT)) return -E.ENAMETOOLONG;
    return this.#sys(nr.symlinkat, this.#b, dirfd, this.#a);
  }

  /** linkat(2) without AT_SYMLINK_FOLLOW: a symlink target is linked itself, never followed. */
  linkat(olddirfd: number, oldname: string, newdirfd: number, newname: string): number {
    if (!this.#str(oldname, B, PATH_SLOT) || !this.#str(newname, A, PATH_SLOT)) return -E.ENAMETOOLONG;
    return this.#sys(nr.linkat, olddirfd, this.#b, newdirfd, this.#a, 0);
  }

  unlinkat(dirfd: number, name: string, flags: number): number {
    if (!this.#str(name, A, PATH_SLOT)) return -E.ENAMETOOLONG;
    return this.#sys(nr.unlinkat, dirfd, this.#a, flags);
  }

  fchown(fd: number, uid: number, gid: number): number {
    return this.#sys(nr.fchown, fd, uid, gid);
  }

  fchownat(dirfd: number, name: string, uid: number, gid: number, flags: number): number {
    if (!this.#str(name, A, PATH_SLOT)) return -E.ENAMETOOLONG;
    return this.#sys(nr.fchownat, dirfd, this.#a, uid, gid, flags);
  }

  fchmod(fd: number, mode: number): number {
    return this.#sys(nr.fchmod, fd, mode);
  }

  fchmodat(dirfd: number, name: string, mode: number): number {
    if (!this.#str(name, A, PATH_SLOT)) return -E.ENAMETOOLONG;
    return this.#sys(nr.fchmodat, dirfd, this.#a, mode);
  }

  /**
   * utimensat(2): `name` null sets the times of `dirfd` itself (futimens).
   * `atime` null leaves the access time as it is.
   */
  utimensat(dirfd: number, name: string | null, atime: { sec: number; nsec: number } | null, mtime: { sec: number; nsec: number }, flags: number): number {
    const w = TIMES >> 2;
    if (atime === null) { this.#i32[w] = 0; this.#i32[w + 1] = 0; this.#u32[w + 2] = UTIME_OMIT; this.#u32[w + 3] = 0; }
    else this.#timespec(w, atime);
    this.#timespec(w + 4, mtime);
    if (name === null) return this.#sys(nr.utimensat, dirfd, 0, this.#times, flags);
    if (!this.#str(name, A, PATH_SLOT)) return -E.ENAMETOOLONG;
    return this.#sys(nr.utimensat, dirfd, this.#a, this.#times, flags);
  }

  #timespec(w: number, t: { sec: number; nsec: number }): void {
    // An int64 as two 32-bit halves, little-endian (x86_64 and aarch64).
    this.#u32[w] = t.sec >>> 0;
    this.#i32[w + 1] = Math.floor(t.sec / 4294967296);
    this.#u32[w + 2] = t.nsec >>> 0;
    this.#u32[w + 3] = 0;
  }

  /** fsetxattr(2); `path` given: lsetxattr(2) on that path instead of the fd. */
  setxattr(fd: number, path: string | null, name: string, value: Uint8Array): number {
    if (!this.#str(name, XNAME, 256)) return -E.ENAMETOOLONG;
    if (value.length > 65536) return -errnoNumber('E2BIG');
    this.#buf.set(value, XVALUE);
    if (path === null) return this.#sys(nr.fsetxattr, fd, this.#xname, this.#xvalue, value.length, 0);
    if (!this.#str(path, A, PATH_SLOT)) return -E.ENAMETOOLONG;
    return this.#sys(nr.lsetxattr, this.#a, this.#xname, this.#xvalue, value.length, 0);
  }

  close(fd: number): number {
    const r = this.#libc.close(fd);
    return r === -1 ? -lastErrno() : r;
  }

  /** write(2) all of `buf` (retrying short writes); 0 or -errno. */
  writeAll(fd: number, buf: Uint8Array): number {
    let off = 0;
    while (off < buf.length) {
      const chunk = off === 0 ? buf : buf.subarray(off);
      const r = Number(this.#libc.write(fd, chunk, chunk.length));
      if (r === -1) {
        const e = lastErrno();
        if (e === E.EINTR) continue;
        return -e;
      }
      off += r;
    }
    return 0;
  }
}

/**
 * A device number as mknodat(2) takes it (the kernel's new_encode_dev):
 * minor's low 8 bits, 12 bits of major, then minor's upper 12 bits.
 */
export function encodeDev(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}
