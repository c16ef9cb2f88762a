// Locks on files in the store. flock(2): a lock belongs to the open file
// description, so it is released when the fd closes — also when the process
// dies: a killed importer never leaves a stale lock. Two descriptions of one
// file conflict even inside one process, so a lock also answers "is the
// process that made this temporary directory still working on it?".
import { closeSync, openSync } from 'node:fs';
import { O, SyscallError, syscall } from '@nsk/syscall';

const LOCK_EX = 2;
const LOCK_NB = 4;

/**
 * Runs `fn` holding flock(LOCK_EX) on `path` (created if missing). Blocks
 * until the lock is free: keep `fn` short and synchronous (renames, small
 * JSON files), never an await inside.
 */
export function withFileLock<T>(path: string, fn: () => T): T {
  const fd = openSync(path, O.RDWR | O.CREAT | O.CLOEXEC, 0o600);
  try {
    syscall('flock', fd, LOCK_EX);
    return fn();
  } finally {
    closeSync(fd);
  }
}

/** Takes flock(LOCK_EX|LOCK_NB) on a new `path` and keeps it until `release()`. */
export function holdLock(path: string): { release(): void } {
  const fd = openSync(path, O.RDWR | O.CREAT | O.CLOEXEC, 0o600);
  try {
    syscall('flock', fd, LOCK_EX | LOCK_NB);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let open = true;
  return { release: () => { if (open) { open = false; closeSync(fd); } } };
}

/** True when some open file description (this process's or another's) holds a lock on `path`. */
export function isLocked(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, O.RDONLY | O.CLOEXEC);
  } catch {
    return false;
  }
  try {
    syscall('flock', fd, LOCK_EX | LOCK_NB);
    return false;
  } catch (e) {
    if (e instanceof SyscallError && e.errno === 'EAGAIN') return true;
    throw e;
  } finally {
    closeSync(fd);
  }
}
