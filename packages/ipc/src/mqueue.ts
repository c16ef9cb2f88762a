// POSIX message queues: mq_open(2), mq_unlink(2), and the mqueue filesystem
// that lists them (mq_overview(7)). No /proc file lists them.
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { Arena, O, ValidationError, close, syscall } from '@nsk/syscall';

/** statfs(2) f_type of an mqueue filesystem (linux/magic.h). */
const MQUEUE_MAGIC = 0x19800202;
/** mq_overview(7): a name is "/" and up to NAME_MAX (255) characters, none a "/". */
const NAME = /^\/[^/\0]{1,255}$/;

export interface MessageQueue {
  /** `/name`, as mq_open(3) takes it. */
  name: string;
  /** Bytes in all its messages (QSIZE). */
  bytes: number;
}

// syscall() passes numbers only; the name goes in a page of our own.
let page: Arena | undefined;

/** The name as the kernel takes it: glibc's mq_open(3) drops the leading "/". */
function kernelName(name: string): bigint {
  if (typeof name !== 'string' || !NAME.test(name)) throw new ValidationError('name', `not a queue name ("/" then 1-255 characters without "/"): ${JSON.stringify(name)}`);
  page ??= Arena.map(4096);
  const b = Buffer.from(`${name.slice(1)}\0`);
  if (b.length > 256) throw new ValidationError('name', `longer than 255 bytes: ${JSON.stringify(name)}`);
  page.bytes.set(b);
  return page.address;
}

/** Makes queue `name` (default attributes, fails with EEXIST if it exists). Stands for `mq_open(name, O_CREAT|O_EXCL)`. */
export function mqCreate(name: string, mode = 0o600): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new ValidationError('mode', `not permission bits: ${mode}`);
  close(syscall('mq_open', kernelName(name), O.CREAT | O.EXCL | O.RDWR | O.CLOEXEC, mode, 0));
}

/** Removes queue `name`. Stands for `mq_unlink(name)`. */
export function mqRemove(name: string): void {
  syscall('mq_unlink', kernelName(name));
}

/**
 * The queues in the mqueue filesystem at `mountPoint`: those of the IPC
 * namespace that mounted it, whoever reads. `/proc/PID/root/dev/mqueue`
 * shows a container's.
 */
export function mqList(mountPoint = '/dev/mqueue'): MessageQueue[] {
  let type: number;
  try {
    type = statfsSync(mountPoint).type;
  } catch {
    type = 0;
  }
  if (type !== MQUEUE_MAGIC) throw new ValidationError('mountPoint', `${mountPoint} is not an mqueue filesystem (mount -t mqueue mqueue ${mountPoint})`);
  return readdirSync(mountPoint).sort().map((entry) => {
    // Each file reads "QSIZE:0 NOTIFY:0 SIGNO:0 NOTIFY_PID:0".
    const qsize = /QSIZE:(\d+)/.exec(readFileSync(`${mountPoint}/${entry}`, 'utf8'));
    return { name: `/${entry}`, bytes: Number(qsize?.[1] ?? 0) };
  });
}
