// System V shared memory segments: shmget(2), shmctl(2), and their list in
// /proc/sysvipc/shm (proc(5)), which shows the reading thread's IPC namespace.
import { readFileSync } from 'node:fs';
import { ValidationError, syscall } from '@nsk/syscall';

// sys/ipc.h, sys/shm.h (the same on x86_64 and aarch64).
export const IPC_PRIVATE = 0;
export const IPC = { CREAT: 0o1000, EXCL: 0o2000, RMID: 0 } as const;

export interface ShmSegment {
  /** The key it was made with; 0 for IPC_PRIVATE. */
  key: number;
  id: number;
  /** Permission bits: 0o600. */
  mode: number;
  /** Size in bytes. */
  size: number;
  /** The pid that made it, as this process's pid namespace sees it. */
  creatorPid: number;
  /** How many processes have it attached. */
  attached: number;
  uid: number;
  gid: number;
}

export interface ShmCreateOptions {
  /** A key other processes can find it by (a 32-bit integer). Default IPC_PRIVATE. */
  key?: number;
  /** Permission bits. Default 0o600. */
  mode?: number;
}

/**
 * Makes a new segment of `size` bytes and returns its id. Fails with EEXIST
 * if `key` is taken. Stands for `ipcmk -M SIZE`.
 */
export function shmCreate(size: number, options: ShmCreateOptions = {}): number {
  const { key = IPC_PRIVATE, mode = 0o600 } = options;
  if (!Number.isSafeInteger(size) || size < 1) throw new ValidationError('size', `not a positive whole number of bytes: ${size}`);
  if (!Number.isInteger(key) || key < -0x80000000 || key > 0xffffffff) throw new ValidationError('key', `not a 32-bit key: ${key}`);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new ValidationError('mode', `not permission bits: ${mode}`);
  // key_t is a C int: 0xffffffff goes as -1.
  return syscall('shmget', key | 0, size, IPC.CREAT | IPC.EXCL | mode);
}

/**
 * Marks segment `id` for removal; it goes when the last process detaches.
 * Stands for `ipcrm -m ID`.
 */
export function shmRemove(id: number): void {
  syscall('shmctl', id, IPC.RMID, 0);
}

/** Parses /proc/sysvipc/shm. */
export function parseShmList(text: string): ShmSegment[] {
  const [header = '', ...rows] = text.split('\n').filter((l) => l.trim());
  const names = header.trim().split(/\s+/);
  return rows.map((row) => {
    const values = row.trim().split(/\s+/);
    const field = (name: string) => Number(values[names.indexOf(name)]);
    return {
      key: field('key'),
      id: field('shmid'),
      // The column also carries SHM_DEST (0o1000) and SHM_LOCKED (0o2000).
      mode: parseInt(values[names.indexOf('perms')]!, 8) & 0o777,
      size: field('size'),
      creatorPid: field('cpid'),
      attached: field('nattch'),
      uid: field('uid'),
      gid: field('gid'),
    };
  });
}

/**
 * The segments of this process's IPC namespace (the main thread's: readFileSync
 * runs there, and namespaces belong to threads). Stands for `ipcs -m`.
 */
export function shmList(): ShmSegment[] {
  return parseShmList(readFileSync('/proc/sysvipc/shm', 'utf8'));
}
