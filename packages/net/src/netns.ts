// Working in another network namespace from Node's main thread.
//
// network_namespaces(7) and setns(2): a thread may switch its network
// namespace on its own (DESIGN.md §1), and a socket belongs for its whole
// life to the namespace its creator was in when it called socket(2). So we
// enter, open (a netlink socket, a listening socket, run `ip`), and come
// back — synchronously, never across an await: Node runs other callbacks
// between awaits, and they must find the thread in its own namespace.
import { closeSync, openSync } from 'node:fs';
import { CLONE, O, SyscallError, setns, unshare } from '@nsk/syscall';

let own: number | undefined;

/** An fd of the namespace this thread started in (opened once, kept). */
export function ownNetnsFd(): number {
  return (own ??= openSync('/proc/thread-self/ns/net', O.RDONLY | O.CLOEXEC));
}

/**
 * Runs `fn` with the calling thread in the network namespace `fd`, then puts
 * it back in its own. `fn` must be synchronous. `fd` null runs `fn` here.
 */
export function inNetns<T>(fd: number | null, fn: () => T): T {
  if (fd === null) return fn();
  const home = ownNetnsFd();
  setns(fd, CLONE.NEWNET);
  let result: T;
  try {
    result = fn();
  } finally {
    try {
      setns(home, CLONE.NEWNET);
    } catch (err) {
      // Staying in a foreign namespace would silently misroute every later
      // socket of this process: there is no safe way to go on.
      process.emitWarning(`nsk: could not return to the own network namespace: ${String(err)}`);
      process.abort();
    }
  }
  if (result instanceof Promise) throw new TypeError('inNetns: fn must be synchronous (it ran, but awaited work would run in the wrong namespace)');
  return result;
}

/** A network namespace held open by an fd. */
export interface Netns {
  readonly fd: number;
  /** `/proc/PID/fd/N`: a path other programs (nsenter --net=, ip netns attach) can open. */
  readonly path: string;
  /** Closes the fd; the namespace goes when nothing else holds it. */
  close(): void;
}

/**
 * A new, empty network namespace (only `lo`, down), held by an fd and named
 * nowhere: `unshare -n` without a process in it. Closing the fd frees it.
 */
export function netnsNew(): Netns {
  const home = ownNetnsFd();
  // unshare(2) on the main thread moves only this thread (DESIGN.md §1);
  // we keep a handle to the new namespace and step straight back.
  unshare(CLONE.NEWNET);
  let fd: number;
  try {
    fd = openSync('/proc/thread-self/ns/net', O.RDONLY | O.CLOEXEC);
  } finally {
    setns(home, CLONE.NEWNET);
  }
  return handle(fd);
}

/** Opens `/proc/PID/ns/net`, or a path such as `/run/netns/NAME`. */
export function netnsOpen(target: number | string): Netns {
  const path = typeof target === 'number' ? `/proc/${target}/ns/net` : target;
  let fd: number;
  try {
    fd = openSync(path, O.RDONLY | O.CLOEXEC);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const errno = typeof e.errno === 'number' ? -e.errno : 2;
    throw new SyscallError({ step: 'open a network namespace', syscall: 'openat', errno, path, cause: err });
  }
  return handle(fd);
}

function handle(fd: number): Netns {
  let open = true;
  return {
    fd,
    path: `/proc/${process.pid}/fd/${fd}`,
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
