// File descriptors on namespaces and processes: the handles setns(2),
// ioctl_ns(2) and pidfd_open(2) work with.
import { closeSync, openSync } from 'node:fs';
import { O, SyscallError, errnoNumber, syscall } from '@nsk/syscall';
import { fsError } from './fs-error.ts';

/** open(path, O_RDONLY|O_CLOEXEC): an nsfs file, a /proc link to one, or a directory. */
export function openNs(path: string, step: string, flags: number = O.RDONLY): number {
  try {
    return openSync(path, flags | O.CLOEXEC);
  } catch (err) {
    throw fsError(err, step, path);
  }
}

export function closeFd(fd: number): void {
  closeSync(fd);
}

const HINTS: Record<string, string> = {
  ENOTTY: 'not a namespace file (ioctl_ns(2) works only on nsfs files)',
  EPERM: 'the answer lies outside this process’s user namespace (the initial user namespace has no owner)',
};

/** ioctl(fd, request) for the ioctl_ns(2) requests, which take no argument. */
export function ioctl(fd: number, request: number, step: string, path: string): number {
  try {
    return syscall('ioctl', fd, request);
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    const hint = HINTS[err.errno];
    throw new SyscallError({ syscall: 'ioctl', errno: err.errnoNumber, step, path, args: [path, `0x${request.toString(16)}`], ...(hint ? { hint } : {}) });
  }
}

/** pidfd_open(2): a handle on the process itself, which a reused pid cannot fool. */
export function pidfdOpen(pid: number, step: string): number {
  try {
    return syscall('pidfd_open', pid, 0);
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    throw new SyscallError({ syscall: 'pidfd_open', errno: err.errnoNumber, step, args: [pid], ...(err.errno === 'ESRCH' ? { hint: `there is no process ${pid}` } : {}) });
  }
}

/**
 * True while the pidfd's process has not exited. Files opened under
 * /proc/PID/ between pidfd_open and a true answer belonged to that process
 * and not to a later one that reused its pid.
 */
export function pidfdAlive(pidfd: number): boolean {
  try {
    // pidfd_send_signal(2) with signal 0: the permission and existence check only.
    syscall('pidfd_send_signal', pidfd, 0, 0, 0);
    return true;
  } catch (err) {
    if (err instanceof SyscallError && err.errno === 'ESRCH') return false;
    throw err;
  }
}


/**
 * Opens files under /proc/PID/ (`ns/net`, `root`) and proves they belong to
 * the process `pid` named when this was called: pidfd_open first, open the
 * files, then check through the pidfd that it has not exited meanwhile — a
 * pid is not reused while its process exists (pidfd_open(2)). Returns the fds
 * in the order given; all are close-on-exec.
 */
export function openOfProcess(pid: number | 'self', files: ReadonlyArray<{ path: string; flags?: number }>, step: string): number[] {
  const pidfd = pid === 'self' ? null : pidfdOpen(pid, step);
  const fds: number[] = [];
  try {
    for (const f of files) fds.push(openNs(`/proc/${pid}/${f.path}`, step, f.flags));
    if (pidfd !== null && !pidfdAlive(pidfd)) {
      throw new SyscallError({ syscall: 'pidfd_send_signal', errno: errnoNumber('ESRCH'), step, args: [pid, 0], hint: `process ${pid} ended while its files were being opened` });
    }
    return fds;
  } catch (err) {
    for (const fd of fds) closeFd(fd);
    throw err;
  } finally {
    if (pidfd !== null) closeFd(pidfd);
  }
}
