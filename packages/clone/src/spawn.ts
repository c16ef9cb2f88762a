// spawn(): start a program in new namespaces from a live Node process.
//
// The parent builds a plan, clones a child that runs it on the trampoline,
// does its own part (features' `parent` hooks) while the child waits, lets
// it go, and learns from the error pipe whether execve(2) was reached
// (DESIGN.md §1).
import { constants as osConstants } from 'node:os';
import {
  CLONE, F, O, SIG, SIGRTMAX, SyscallError, ValidationError, close, errnoName, fcntl, hostArch, kill, lastErrno,
  libc, pipe2, restoreSignalMask, blockAllSignals, write, type WaitStatus,
} from '@nsk/syscall';
import { Plan } from './plan/plan.ts';
import { showStep } from './plan/explain.ts';
import { cloneFlags } from './plan/flags.ts';
import type { Feature, ChildInfo } from './feature.ts';
import { namespaceFlags, type NamespaceName } from './namespaces.ts';
import { planFds } from './fds.ts';
import { giveRegion, stackTop, takeRegion } from './memory.ts';
import { trampolineAddress } from './trampoline/index.ts';
import { listen, watch } from './reaper.ts';
import { readReport } from './report.ts';

export interface SpawnOptions {
  /** The program's arguments; `argv[0]` is also the path unless `path` is given. */
  argv: readonly string[];
  /** The program to execute: a path with a `/` (there is no PATH search). */
  path?: string;
  /** The environment, as `KEY=value` strings or an object. Default: empty. */
  env?: readonly string[] | Readonly<Record<string, string>>;
  /** Namespaces the child is born into. */
  namespaces?: readonly NamespaceName[];
  /**
   * `stdio[i]` is the parent's fd that becomes fd `i` in the child, null for
   * none. Default `[0, 1, 2]`. Every other fd is closed at execve.
   */
  stdio?: ReadonlyArray<number | null>;
  /** Isolation features, in order (DESIGN.md §3). */
  features?: readonly Feature[];
  /** Extra steps, run after the features' steps and before execve. */
  plan?: Plan;
  /**
   * Clone with CLONE_VM (the child borrows this process's memory until
   * execve, as posix_spawn does: no page tables to copy). Default: whenever
   * the plan allows it.
   */
  shareMemory?: boolean;
}

export interface ExitStatus {
  /** The exit code, or null when a signal ended the process. */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: NodeJS.Signals | null;
  /** As a shell reports it: the code, or 128 + the signal number. */
  status: number;
  /**
   * What features' cleanups threw (a cgroup that could not be removed, say),
   * in the order they ran; absent when every cleanup succeeded.
   */
  cleanupErrors?: unknown[];
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

function toExitStatus(w: WaitStatus): ExitStatus {
  if (w.signal !== null) return { code: null, signal: SIGNAL_NAMES.get(w.signal) ?? null, status: 128 + w.signal };
  return { code: w.code, signal: null, status: w.code ?? 255 };
}

/** A running child. */
export class Child {
  readonly pid: number;
  /** Resolves when the child has ended and every feature has cleaned up. */
  readonly exited: Promise<ExitStatus>;
  #done = false;

  constructor(pid: number, exited: Promise<ExitStatus>) {
    this.pid = pid;
    this.exited = exited.finally(() => {
      this.#done = true;
    });
  }

  /** kill(2); false when the child has already been reaped. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.#done) return false;
    const n = typeof signal === 'number' ? signal : osConstants.signals[signal];
    if (n === undefined) throw new ValidationError('signal', `unknown signal ${String(signal)}`);
    try {
      kill(this.pid, n);
    } catch (err) {
      // Reaped between the check and the call: the exit is on its way.
      if (err instanceof SyscallError && err.errno === 'ESRCH') return false;
      throw err;
    }
    return true;
  }
}

interface Checked {
  path: string;
  argv: readonly string[];
  env: readonly string[];
  stdio: ReadonlyArray<number | null>;
  flags: number;
  features: readonly Feature[];
}

function check(o: SpawnOptions): Checked {
  if (!Array.isArray(o.argv) || o.argv.length === 0) throw new ValidationError('argv', 'give at least the program');
  for (const a of o.argv) if (typeof a !== 'string' || a.includes('\0')) throw new ValidationError('argv', `not a string without NUL bytes: ${JSON.stringify(a)}`);
  const path = o.path ?? o.argv[0]!;
  if (!path.includes('/')) throw new ValidationError('path', `${JSON.stringify(path)} has no "/": give the program's path (the child does no PATH search)`);
  const env = Array.isArray(o.env) ? (o.env as readonly string[]) : Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of env) if (!/^[^=\0]+=[^\0]*$/.test(e)) throw new ValidationError('env', `not KEY=value: ${JSON.stringify(e)}`);
  const stdio = o.stdio ?? [0, 1, 2];
  stdio.forEach((fd, i) => {
    if (fd === null) return;
    if (!Number.isInteger(fd) || fd < 0) throw new ValidationError(`stdio[${i}]`, `not a file descriptor: ${String(fd)}`);
    try {
      fcntl(fd, F.GETFD);
    } catch {
      throw new ValidationError(`stdio[${i}]`, `fd ${fd} is not open in this process`);
    }
  });
  const features = o.features ?? [];
  let flags = namespaceFlags(o.namespaces ?? []);
  for (const f of features) flags |= f.cloneFlags ?? 0;
  return { path, argv: o.argv, env, stdio, flags, features };
}

interface Pipes {
  errorWrite: number;
  syncRead: number | null;
  syncWrite: number | null;
}

/** The child's plan: the built-in steps, the features' steps, the caller's, execve. */
function childPlan(c: Checked, extra: Plan | undefined, pipes: Pipes): Plan {
  const plan = new Plan();
  if (pipes.syncRead !== null && pipes.syncWrite !== null) {
    // Close our copy of the write end first: if the parent dies, the read
    // then sees end-of-file instead of waiting forever.
    plan.close(pipes.syncWrite, { label: 'close the parent’s end of the sync pipe' });
    plan.waitForParent(pipes.syncRead);
  }
  planFds(plan, c.stdio, [pipes.errorWrite, pipes.syncRead ?? -1]);
  // Signals were blocked around clone(2) so that no Node handler runs in the
  // child. execve(2) resets caught signals but keeps ignored ones ignored
  // (Node ignores SIGPIPE and SIGXFSZ): reset all, then unblock.
  for (let sig = 1; sig <= SIGRTMAX; sig++) if (sig !== SIG.KILL && sig !== SIG.STOP) plan.resetSignal(sig);
  plan.unblockSignals();
  for (const f of c.features) f.plan?.(plan);
  if (extra) plan.append(extra);
  plan.execve(c.path, c.argv, c.env);
  return plan;
}

/** An fd numbered at least `min`, close-on-exec; closes `fd` if it moved. */
function above(fd: number, min: number): number {
  if (fd >= min) return fd;
  const moved = fcntl(fd, F.DUPFD_CLOEXEC, min);
  close(fd);
  return moved;
}

/**
 * The plan `spawn(options)` would run, without running it (`--explain`).
 * Pipe fds are shown as they would be numbered now.
 */
export function explainSpawn(options: SpawnOptions): string {
  const c = check(options);
  const sync = c.features.some((f) => f.parent);
  const plan = childPlan(c, options.plan, { errorWrite: 100, syncRead: sync ? 101 : null, syncWrite: sync ? 102 : null });
  const around = c.features.filter((f) => f.aroundClone).map((f) => `       around clone: ${f.name}`);
  const parents = c.features.filter((f) => f.parent).map((f) => `       parent: ${f.name}`);
  return [...around, `clone(${c.flags ? `${cloneFlags(c.flags)}|` : ''}SIGCHLD)`, ...parents, plan.explain()].join('\n');
}

function cloneHint(errno: number, flags: number): string | undefined {
  const name = errnoName(errno);
  if (name === 'EPERM') return flags & CLONE.NEWUSER ? 'creating a user namespace was refused (unprivileged user namespaces may be disabled: sysctl kernel.unprivileged_userns_clone, kernel.apparmor_restrict_unprivileged_userns)' : 'creating namespaces needs CAP_SYS_ADMIN (run as root, or add "user" to the namespaces)';
  if (name === 'ENOSPC') return 'a namespace limit was reached (/proc/sys/user/max_*_namespaces)';
  if (name === 'EINVAL') return 'the kernel refused this combination of clone flags';
  return undefined;
}

async function cleanupAll(features: readonly Feature[], child: ChildInfo): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const f of [...features].reverse()) {
    try {
      await f.cleanup?.(child);
    } catch (err) {
      errors.push(err);
    }
  }
  return errors;
}

/**
 * Starts `argv` in a child born into `namespaces`, with the features'
 * steps run before execve. Resolves once execve succeeded; rejects with a
 * SyscallError naming the failing step otherwise.
 */
export async function spawn(options: SpawnOptions): Promise<Child> {
  const c = check(options);
  const sync = c.features.some((f) => f.parent);
  const min = Math.max(3, c.stdio.length);
  let [errorRead, errorWrite] = pipe2(O.CLOEXEC);
  errorWrite = above(errorWrite, min);
  let syncRead: number | null = null;
  let syncWrite: number | null = null;
  if (sync) {
    [syncRead, syncWrite] = pipe2(O.CLOEXEC);
    syncRead = above(syncRead, min);
  }
  const closePipes = (...fds: Array<number | null>) => { for (const fd of fds) if (fd !== null && fd >= 0) close(fd); };

  let plan: Plan;
  try {
    plan = childPlan(c, options.plan, { errorWrite, syncRead, syncWrite });
  } catch (err) {
    closePipes(errorRead, errorWrite, syncRead, syncWrite);
    throw err;
  }
  const shareMemory = options.shareMemory ?? !plan.needsPrivateMemory;
  if (shareMemory && plan.needsPrivateMemory) {
    closePipes(errorRead, errorWrite, syncRead, syncWrite);
    throw new ValidationError('shareMemory', 'this plan enters a user namespace with setns(2), which a child sharing its parent’s memory cannot do');
  }

  const region = takeRegion(plan.encodedSize);
  region.bytes.set(plan.encode({ base: region.address, arch: hostArch, errorFd: errorWrite }));
  const flags = c.flags | SIG.CHLD | (shareMemory ? CLONE.VM : 0);

  listen();
  const undo: Array<() => void> = [];
  // Every undo runs, even when one throws; the first error is kept.
  const undoAll = (): unknown => {
    let first: unknown;
    for (const u of undo.splice(0).reverse()) {
      try {
        u();
      } catch (err) {
        first ??= err;
      }
    }
    return first;
  };
  let pid = -1;
  let errno = 0;
  try {
    for (const f of c.features) if (f.aroundClone) undo.push(f.aroundClone());
    const saved = blockAllSignals();
    pid = libc().clone(trampolineAddress(), stackTop(region), flags, region.address);
    errno = pid === -1 ? lastErrno() : 0;
    restoreSignalMask(saved);
  } catch (err) {
    undoAll();
    closePipes(errorRead, errorWrite, syncRead, syncWrite);
    giveRegion(region);
    throw err;
  }
  const undoError = undoAll();
  closePipes(errorWrite, syncRead);
  if (undoError !== undefined && pid !== -1) {
    // The child exists but this process may be left in a foreign namespace:
    // stop the child before it runs anything of the caller's.
    kill(pid, SIG.KILL);
    closePipes(syncWrite);
    await watch(pid);
    await readReport(errorRead).catch(() => null);
    giveRegion(region);
    throw undoError;
  }

  if (pid === -1) {
    closePipes(errorRead, syncWrite);
    giveRegion(region);
    const hint = cloneHint(errno, c.flags);
    throw new SyscallError({ step: 'create the child', syscall: 'clone', errno, args: [`0x${flags.toString(16)}`], ...(hint ? { hint } : {}) });
  }

  const child: ChildInfo = { pid };
  const reaped = watch(pid);
  const report = readReport(errorRead);
  const finish = async (): Promise<ExitStatus> => {
    const status = toExitStatus(await reaped);
    const errors = await cleanupAll(c.features, child);
    return errors.length ? { ...status, cleanupErrors: errors } : status;
  };

  try {
    for (const f of c.features) await f.parent?.(child);
    if (syncWrite !== null) write(syncWrite, new Uint8Array([1]));
  } catch (err) {
    kill(pid, SIG.KILL);
    closePipes(syncWrite);
    await report.catch(() => null);
    giveRegion(region);
    await finish();
    throw err;
  }
  closePipes(syncWrite);

  const failure = await report.finally(() => giveRegion(region));
  if (failure) {
    await finish();
    const step = plan.steps[failure.step];
    if (!step) throw new Error(`the child reported an unknown step ${failure.step} (errno ${failure.errno})`);
    const first = step.args.find((a) => a.kind === 'str');
    throw new SyscallError({
      step: step.label,
      syscall: step.syscall,
      errno: failure.errno,
      args: [showStep(step).slice(step.syscall.length + 1, -1)],
      ...(first?.kind === 'str' ? { path: first.value } : {}),
    });
  }
  return new Child(pid, finish());
}
