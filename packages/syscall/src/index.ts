export { NskError, SyscallError, ValidationError, type SyscallErrorInit } from './error.ts';
export { ERRNO, errnoName, errnoNumber, errnoText } from './errno.ts';
export { hostArch, sysno, syscallNames, O_ARCH, type Arch } from './arch.ts';
export { SYSCALL_NAMES, type SyscallName } from './sysno-table.ts';
export * from './constants.ts';
export {
  syscall, mmap, munmap, mprotect, pipe2, close, read, write, fcntl, kill, waitNoHang, setns,
  unshare, mount, umount2, gethostname, getpid, blockAllSignals, restoreSignalMask, type WaitStatus,
} from './calls.ts';
export { Arena } from './arena.ts';
export { libc, lastErrno, viewAt } from './libc.ts';
