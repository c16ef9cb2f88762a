// Reaping without blocking the event loop and without a thread per child.
//
// Every child is cloned with SIGCHLD as its exit signal. Node delivers
// SIGCHLD to `process.on('SIGCHLD')` listeners (libuv's own child_process
// reaping only waits for its own pids), so on each signal we poll our live
// children with waitid(P_PID, pid, WEXITED|WNOHANG). Standard signals
// coalesce, so one SIGCHLD may stand for several exits: we check them all.
import { waitNoHang, SyscallError, type WaitStatus } from '@nsk/syscall';

const live = new Map<number, (status: WaitStatus) => void>();
let listening = false;
// Signal listeners do not keep Node alive; a child we still wait for must.
let keepAlive: NodeJS.Timeout | undefined;

function poll(): void {
  for (const [pid, done] of live) {
    let status: WaitStatus | null;
    try {
      status = waitNoHang(pid);
    } catch (err) {
      // ECHILD: something else in this process reaped it (waitpid(-1)).
      if (err instanceof SyscallError && err.errno === 'ECHILD') status = { pid, code: null, signal: null };
      else throw err;
    }
    if (status) {
      live.delete(pid);
      done(status);
    }
  }
  if (live.size === 0 && keepAlive) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

/** Starts listening for SIGCHLD. Call before clone(2), so no exit is missed. */
export function listen(): void {
  if (listening) return;
  process.on('SIGCHLD', poll);
  listening = true;
}

/** Resolves with `pid`'s exit status once it ends. Call right after clone(2). */
export function watch(pid: number): Promise<WaitStatus> {
  keepAlive ??= setInterval(() => {}, 0x7fffffff);
  const exited = new Promise<WaitStatus>((resolve) => live.set(pid, resolve));
  // It may have ended before we listened for it by pid.
  poll();
  return exited;
}

/** Children cloned and not yet reaped. */
export function liveChildren(): number {
  return live.size;
}
