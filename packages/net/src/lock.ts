// An exclusive lock on a file, held for a synchronous critical section.
// flock(2): the lock belongs to the open file description, so it is released
// when the fd closes — also when the process dies, so a killed holder never
// leaves a stale lock behind.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { O, syscall } from '@nsk/syscall';

const LOCK_EX = 2;

/** Runs `fn` holding flock(LOCK_EX) on `path` (created if missing). Blocks until the lock is free. */
export function withFileLock<T>(path: string, fn: () => T): T {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, O.RDWR | O.CREAT | O.CLOEXEC, 0o600);
  try {
    syscall('flock', fd, LOCK_EX);
    return fn();
  } finally {
    closeSync(fd);
  }
}
