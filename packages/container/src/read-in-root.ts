// Reading a file of a container's root filesystem from the host, safely.
//
// A rootfs is untrusted: its /etc/passwd may be a symlink to the host's
// /etc/shadow, `..` may try to climb out, and a FIFO would block the read
// forever. openat2(2) with RESOLVE_IN_ROOT resolves the path as if the
// directory were "/" (absolute symlinks and ".." stay inside), and
// RESOLVE_NO_MAGICLINKS refuses /proc/self/fd-style links; O_NONBLOCK and a
// fstat(2) check keep the read to a regular file of bounded size.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Arena, NskError, O, SyscallError, syscall } from '@nsk/syscall';

/** linux/openat2.h */
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_IN_ROOT = 0x10;
/** struct open_how { u64 flags, mode, resolve } */
const OPEN_HOW_SIZE = 24;
const PATH_MAX = 4096;

let arena: Arena | undefined;

/**
 * openat2(dirfd, path, { flags, resolve: RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS }):
 * an fd (close-on-exec) of `path` resolved inside the directory `dirfd`.
 */
export function openInRoot(dirfd: number, path: string, flags: number): number {
  const bytes = Buffer.from(`${path}\0`);
  if (bytes.length > PATH_MAX || path.includes('\0')) throw new NskError(`path too long or with a NUL byte: ${JSON.stringify(path)}`, 'ERR_NSK_PATH');
  arena ??= Arena.map(PATH_MAX + OPEN_HOW_SIZE);
  const view = new DataView(arena.bytes.buffer, arena.bytes.byteOffset, arena.bytes.byteLength);
  view.setBigUint64(0, BigInt(flags | O.CLOEXEC), true);
  view.setBigUint64(8, 0n, true);
  view.setBigUint64(16, BigInt(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), true);
  arena.bytes.set(bytes, OPEN_HOW_SIZE);
  return syscall('openat2', dirfd, arena.address + BigInt(OPEN_HOW_SIZE), arena.address, OPEN_HOW_SIZE);
}

/**
 * The text of `path` inside the directory `root` (a rootfs, or
 * /proc/PID/root), or null when it does not exist there. Throws when it is
 * not a regular file or is larger than `maxBytes`.
 */
export function readInRoot(root: string, path: string, maxBytes = 4 << 20): string | null {
  const dirfd = openSync(root, O.PATH | O.DIRECTORY | O.CLOEXEC);
  let fd: number;
  try {
    fd = openInRoot(dirfd, path, O.RDONLY | O.NONBLOCK | O.NOCTTY);
  } catch (err) {
    if (err instanceof SyscallError && (err.errno === 'ENOENT' || err.errno === 'ENOTDIR')) return null;
    throw err;
  } finally {
    closeSync(dirfd);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new NskError(`${path} in ${root} is not a regular file`, 'ERR_NSK_NOT_A_FILE');
    if (st.size > maxBytes) throw new NskError(`${path} in ${root} is larger than ${maxBytes} bytes`, 'ERR_NSK_TOO_LARGE');
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The kind of `path` inside `root` ('file', 'directory', 'other'), or null when missing. Symlinks are followed inside. */
export function kindInRoot(root: string, path: string): 'file' | 'directory' | 'other' | null {
  const dirfd = openSync(root, O.PATH | O.DIRECTORY | O.CLOEXEC);
  let fd: number;
  try {
    fd = openInRoot(dirfd, path, O.PATH);
  } catch (err) {
    if (err instanceof SyscallError && (err.errno === 'ENOENT' || err.errno === 'ENOTDIR')) return null;
    throw err;
  } finally {
    closeSync(dirfd);
  }
  try {
    const st = fstatSync(fd);
    return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
  } finally {
    closeSync(fd);
  }
}
