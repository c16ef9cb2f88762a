// The pause between `create` and `start`, as runc does it: the container's
// last step before execve(2) is an open(2) of a FIFO in the state directory
// for writing, which blocks until `start` opens it for reading (fifo(7)).
//
// The FIFO's host path is out of reach after pivot_root, so the child
// takes an O_PATH fd of it first, moved to a fixed number, and at the end
// re-opens it through /proc/self/fd/N (proc(5): the magic link opens the
// FIFO itself). Just before, it writes one byte to a "ready" pipe: `create`
// learns that every step up to here succeeded, and returns.
import { mkfifoSync } from './mkfifo.ts';
import { AT, F, O, fcntl } from '@nsk/syscall';
import type { Feature, FdRef, Plan } from '@nsk/clone';

export { mkfifoSync };

/** The lowest fd at or above `from` that is free in this process (so in a child cloned now). */
export function freeFd(from: number): number {
  for (let fd = from; fd < from + 4096; fd++) {
    try { fcntl(fd, F.GETFD); } catch { return fd; }
  }
  throw new Error(`no free fd above ${from}`);
}

export interface ExecFifo {
  /** Before the rootfs steps: the O_PATH fd. */
  take: Feature;
  /** The very last steps: ready, then block until `start`. */
  wait: Feature;
}

export function execFifo(fifoPath: string, readyFd: number, slot: number): ExecFifo {
  let ref: FdRef | null = null;
  return {
    take: {
      name: 'exec-fifo',
      plan(plan: Plan) {
        ref = plan.openat(AT.FDCWD, fifoPath, O.PATH | O.CLOEXEC, 0, { label: `take an O_PATH fd of the exec fifo ${fifoPath}` });
        plan.dup3(ref, slot, O.CLOEXEC, { label: `move it to fd ${slot}` });
        plan.close(ref, { label: 'close the first fd of the fifo' });
      },
    },
    wait: {
      name: 'exec-fifo',
      plan(plan: Plan) {
        plan.write(readyFd, 'r', { label: 'tell create the container is ready' });
        plan.close(readyFd, { label: 'close the ready pipe' });
        plan.openat(AT.FDCWD, `/proc/self/fd/${slot}`, O.WRONLY | O.CLOEXEC, 0, { label: 'wait for start: open the exec fifo for writing' });
      },
    },
  };
}
