// The pause before pivot_root where runtime-spec puts the create hooks
// (config.md "POSIX-platform Hooks"):
//
//   prestart, createRuntime: "MUST be called as part of the create operation
//     after the runtime environment has been created (according to the
//     configuration in config.json) but before the pivot_root or any
//     equivalent operation has been executed"; "MUST be executed in the
//     runtime namespace", their path resolved there.
//   createContainer: the same moment, "after the createRuntime hooks";
//     "MUST be executed in the container namespace", but "the value of path
//     MUST resolve in the runtime namespace".
//
// So the child stops between its mounts and pivot_root: it writes one byte
// on a pipe and blocks reading another (pipe(7): a read with no data
// blocks; EOF once every write end is closed). `create` runs the hooks and
// then writes the byte that lets it go on — or kills it. Only configs with
// such hooks get these steps.
//
// The child has not pivoted yet: a process joining its mount namespace (the
// createContainer hook, @nsk/ns with `root`) has the host's / as its root,
// so the hook's path is found on the host while its namespaces are the
// container's.
import { read } from 'node:fs';
import { F, O, close, fcntl, pipe2, write } from '@nsk/syscall';
import type { Feature, Plan } from '@nsk/clone';

/** One byte from `fd`: 1, or 0 at EOF (every writer gone: the child ended). */
export function readByte(fd: number): Promise<number> {
  return new Promise((resolve) => {
    const b = Buffer.alloc(1);
    read(fd, b, 0, 1, null, (err, n) => resolve(err ? 0 : n));
  });
}

export interface HookPause {
  /** The child's steps, placed just before pivot_root. */
  feature: Feature;
  /** After clone(2): closes this process's copies of the child's ends (so its death reads as EOF). */
  cloned(): void;
  /** Resolves true when the child is at the pause, false when it ended before. */
  reached(): Promise<boolean>;
  /** Lets the child go on to pivot_root. */
  release(): void;
  /** Closes every fd still open here. Idempotent. */
  close(): void;
}

/** An fd at or above `min`, close-on-exec (the child's stdio and preserved fds take the ones below). */
function above(fd: number, min: number): number {
  if (fd >= min) return fd;
  const moved = fcntl(fd, F.DUPFD_CLOEXEC, min);
  close(fd);
  return moved;
}

export function hookPause(minFd: number): HookPause {
  const open = new Set<number>();
  const closeOne = (fd: number) => { if (open.delete(fd)) close(fd); };
  let signalRead: number;
  let signalWrite: number;
  let goRead: number;
  let goWrite: number;
  try {
    [signalRead, signalWrite] = pipe2(O.CLOEXEC);
    open.add(signalRead).add(signalWrite);
    [goRead, goWrite] = pipe2(O.CLOEXEC);
    open.add(goRead).add(goWrite);
    // Every fd the child touches must survive its stdio dup3 steps.
    const lift = (fd: number) => { const moved = above(fd, minFd); open.delete(fd); open.add(moved); return moved; };
    signalWrite = lift(signalWrite);
    goRead = lift(goRead);
    goWrite = lift(goWrite);
  } catch (err) {
    for (const fd of [...open]) closeOne(fd);
    throw err;
  }
  return {
    feature: {
      name: 'hook-pause',
      plan(plan: Plan) {
        plan.write(signalWrite, 'h', { label: 'tell create the mounts are made: it runs the createRuntime and createContainer hooks now, before pivot_root' });
        plan.close(signalWrite, { label: 'close the hook pipe' });
        // Our copy of create's end closed first: if create dies, the read
        // below sees EOF (and the plan fails) instead of waiting forever.
        plan.close(goWrite, { label: 'close create’s end of the go-on pipe' });
        plan.waitForParent(goRead, { label: 'wait until create has run the hooks' });
        plan.close(goRead, { label: 'close the go-on pipe' });
      },
    },
    cloned() { closeOne(signalWrite); closeOne(goRead); },
    async reached() { return (await readByte(signalRead)) === 1; },
    release() {
      // EPIPE: the child died meanwhile; the ready pipe's EOF says so next.
      try { write(goWrite, new Uint8Array([1])); } catch { /* see above */ }
      closeOne(goWrite);
    },
    close() { for (const fd of [...open]) closeOne(fd); },
  };
}
