// Checked wrappers: each calls glibc and turns a failure into a SyscallError
// that names the call and its arguments. Synchronous by nature: these are
// system calls, most finishing in a microsecond.
import { SyscallError } from './error.ts';
import { lastErrno, libc } from './libc.ts';
import { sysno } from './arch.ts';
import type { SyscallName } from './sysno-table.ts';
import { P, SIG_SETMASK, W } from './constants.ts';

type Arg = string | number | bigint;

function fail(syscall: string, args: Arg[], path?: string): never {
  throw new SyscallError({ syscall, errno: lastErrno(), args, ...(path !== undefined ? { path } : {}) });
}

function check(result: number, syscall: string, args: Arg[], path?: string): number {
  if (result === -1) fail(syscall, args, path);
  return result;
}

/**
 * A raw system call by name, for calls glibc does not wrap. Returns the
 * result; throws a SyscallError on failure.
 */
export function syscall(name: SyscallName, ...args: Array<number | bigint>): number {
  const a = [0, 1, 2, 3, 4, 5].map((i) => args[i] ?? 0);
  const r = Number(libc().syscall(sysno(name), a[0], a[1], a[2], a[3], a[4], a[5]));
  return check(r, name, args);
}

/** Anonymous private memory. mmap(2). */
export function mmap(len: number, prot: number, flags: number): bigint {
  const p = libc().mmap(null, len, prot, flags, -1, 0) as bigint;
  if (p === -1n || p === 0xffffffffffffffffn) fail('mmap', [len, prot, flags]);
  return p;
}

export function munmap(address: bigint, len: number): void {
  check(libc().munmap(address, len), 'munmap', [`0x${address.toString(16)}`, len]);
}

export function mprotect(address: bigint, len: number, prot: number): void {
  check(libc().mprotect(address, len, prot), 'mprotect', [`0x${address.toString(16)}`, len, prot]);
}

/** pipe2(2): `[readEnd, writeEnd]`. */
export function pipe2(flags: number): [number, number] {
  const fds = new Int32Array(2);
  check(libc().pipe2(fds, flags), 'pipe2', [flags]);
  return [fds[0]!, fds[1]!];
}

export function close(fd: number): void {
  check(libc().close(fd), 'close', [fd]);
}

/** read(2) into `buf`; the number of bytes read (0 at end of file). */
export function read(fd: number, buf: Uint8Array): number {
  return check(Number(libc().read(fd, buf, buf.length)), 'read', [fd, buf.length]);
}

export function write(fd: number, buf: Uint8Array): number {
  return check(Number(libc().write(fd, buf, buf.length)), 'write', [fd, buf.length]);
}

export function fcntl(fd: number, cmd: number, arg = 0): number {
  return check(libc().fcntl(fd, cmd, arg), 'fcntl', [fd, cmd, arg]);
}

/** kill(2). */
export function kill(pid: number, signal: number): void {
  check(libc().kill(pid, signal), 'kill', [pid, signal]);
}

export interface WaitStatus {
  pid: number;
  /** Exit code when the process exited, else null. */
  code: number | null;
  /** Signal number that killed it, else null. */
  signal: number | null;
}

const siginfo = new Uint8Array(128);
const siginfoView = new DataView(siginfo.buffer);
// siginfo_t (asm-generic/siginfo.h) on 64-bit: si_signo, si_errno, si_code,
// then (after padding to 16) the child's si_pid, si_uid and si_status.
const CLD_EXITED = 1;

/**
 * Reap `pid` if it has ended, without blocking: waitid(P_PID, pid,
 * WEXITED|WNOHANG). Null while it still runs.
 */
export function waitNoHang(pid: number): WaitStatus | null {
  siginfo.fill(0);
  check(libc().waitid(P.PID, pid, siginfo, W.EXITED | W.NOHANG), 'waitid', [pid]);
  const got = siginfoView.getInt32(16, true);
  if (got === 0) return null;
  const code = siginfoView.getInt32(8, true);
  const status = siginfoView.getInt32(24, true);
  return code === CLD_EXITED ? { pid: got, code: status, signal: null } : { pid: got, code: null, signal: status };
}

/** setns(2). */
export function setns(fd: number, nstype: number): void {
  check(libc().setns(fd, nstype), 'setns', [fd, nstype]);
}

/** unshare(2). */
export function unshare(flags: number): void {
  check(libc().unshare(flags), 'unshare', [`0x${flags.toString(16)}`]);
}

/** mount(2). */
export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  if (libc().mount(source, target, fstype, flags, data) === -1) {
    fail('mount', [source ?? 'NULL', target, fstype ?? 'NULL', `0x${flags.toString(16)}`], target);
  }
}

/** umount2(2). */
export function umount2(target: string, flags = 0): void {
  check(libc().umount2(target, flags), 'umount2', [target, flags], target);
}

export function gethostname(): string {
  const buf = new Uint8Array(65);
  check(libc().gethostname(buf, buf.length), 'gethostname', []);
  const end = buf.indexOf(0);
  return Buffer.from(buf.subarray(0, end < 0 ? buf.length : end)).toString();
}

export function getpid(): number {
  return libc().getpid();
}

const ALL_SIGNALS = new Uint8Array(128).fill(0xff);

/**
 * Blocks every signal in the calling thread and returns the previous mask,
 * for `restoreSignalMask`. Used around clone(2): a signal handled in the
 * child before its plan resets dispositions would run Node's handler there.
 */
export function blockAllSignals(): Uint8Array {
  const old = new Uint8Array(128);
  const r = libc().pthreadSigmask(SIG_SETMASK, ALL_SIGNALS, old);
  if (r !== 0) throw new SyscallError({ syscall: 'pthread_sigmask', errno: r, args: ['SIG_SETMASK', 'all'] });
  return old;
}

export function restoreSignalMask(old: Uint8Array): void {
  const r = libc().pthreadSigmask(SIG_SETMASK, old, null);
  if (r !== 0) throw new SyscallError({ syscall: 'pthread_sigmask', errno: r, args: ['SIG_SETMASK', 'saved'] });
}
