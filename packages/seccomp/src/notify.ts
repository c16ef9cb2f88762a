// The supervisor's side of SCMP_ACT_NOTIFY (seccomp_unotify(2), Linux 5.0):
// the filtered call waits while a supervisor reads it from the listener fd
// and answers with a return value or an errno.
//
// The listener is made in the child by seccomp(2); planSeccomp({listener})
// keeps it open across execve, and takeListener() copies it out of the
// running program with pidfd_getfd(2) (Linux 5.6; needs ptrace rights over
// it, which root has).
import { readdirSync, readlinkSync } from 'node:fs';
import { Arena, NskError, close, syscall } from '@nsk/syscall';

// linux/seccomp.h: _IOWR('!', 0, struct seccomp_notif) and
// _IOWR('!', 1, struct seccomp_notif_resp): direction 3 << 30, size << 16.
const NOTIF_SIZE = 80; // u64 id, u32 pid, u32 flags, struct seccomp_data (64)
const RESP_SIZE = 24; // u64 id, s64 val, s32 error, u32 flags
const IOCTL_NOTIF_RECV = (3 * 2 ** 30) + (NOTIF_SIZE << 16) + (0x21 << 8) + 0;
const IOCTL_NOTIF_SEND = (3 * 2 ** 30) + (RESP_SIZE << 16) + (0x21 << 8) + 1;
/** SECCOMP_USER_NOTIF_FLAG_CONTINUE: let the call run as if allowed. */
const FLAG_CONTINUE = 1;

/** One call waiting for an answer. */
export interface Notification {
  readonly id: bigint;
  /** The caller's pid, in the listener's pid namespace. */
  readonly pid: number;
  readonly nr: number;
  readonly arch: number;
  readonly ip: bigint;
  readonly args: readonly bigint[];
}

export interface Answer {
  /** The call's return value (when error is 0). */
  val?: bigint | number;
  /** A positive errno to fail the call with. */
  error?: number;
  /** Let the call run instead (SECCOMP_USER_NOTIF_FLAG_CONTINUE). */
  continue?: boolean;
}

export class Listener {
  readonly fd: number;
  readonly #buf = Arena.map(NOTIF_SIZE + RESP_SIZE);

  constructor(fd: number) {
    this.fd = fd;
  }

  /**
   * Waits for the next notification (ioctl SECCOMP_IOCTL_NOTIF_RECV). It
   * blocks the calling thread: call it when a call is due, or in a worker.
   */
  recv(): Notification {
    const b = this.#buf.bytes;
    // The kernel refuses a receive buffer that is not zeroed (EINVAL).
    b.fill(0, 0, NOTIF_SIZE);
    syscall('ioctl', this.fd, IOCTL_NOTIF_RECV, this.#buf.address);
    const v = new DataView(b.buffer, b.byteOffset, NOTIF_SIZE);
    const args: bigint[] = [];
    for (let i = 0; i < 6; i++) args.push(v.getBigUint64(32 + 8 * i, true));
    return { id: v.getBigUint64(0, true), pid: v.getUint32(8, true), nr: v.getInt32(16, true), arch: v.getUint32(20, true), ip: v.getBigUint64(24, true), args };
  }

  /** Answers notification `id` (ioctl SECCOMP_IOCTL_NOTIF_SEND). */
  respond(id: bigint, a: Answer): void {
    const v = new DataView(this.#buf.bytes.buffer, this.#buf.bytes.byteOffset + NOTIF_SIZE, RESP_SIZE);
    v.setBigUint64(0, id, true);
    v.setBigInt64(8, BigInt(a.val ?? 0), true);
    // seccomp_unotify(2): error is negated, like a kernel return value.
    v.setInt32(16, -(a.error ?? 0), true);
    v.setUint32(20, a.continue ? FLAG_CONTINUE : 0, true);
    syscall('ioctl', this.fd, IOCTL_NOTIF_SEND, this.#buf.address + BigInt(NOTIF_SIZE));
  }

  close(): void {
    close(this.fd);
    this.#buf.release();
  }
}

/** The fd number of the seccomp listener `pid` holds, if any. */
export function findListener(pid: number): number | null {
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:seccomp notify') return Number(fd);
    } catch {
      // closed while we looked
    }
  }
  return null;
}

/** Copies the seccomp listener of process `pid` into this process (pidfd_open + pidfd_getfd). */
export function takeListener(pid: number): Listener {
  const target = findListener(pid);
  if (target === null) throw new NskError(`process ${pid} holds no seccomp listener (install with { listener: true })`, 'ERR_NSK_NO_LISTENER');
  const pidfd = syscall('pidfd_open', pid, 0);
  try {
    return new Listener(syscall('pidfd_getfd', pidfd, target, 0));
  } finally {
    close(pidfd);
  }
}
