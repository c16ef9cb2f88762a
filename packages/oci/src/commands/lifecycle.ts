// start, state, kill, delete, list, ps, pause, resume.
import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { F, NskError, O, ValidationError, fcntl } from '@nsk/syscall';
import { loadHooks } from '../config/load-hooks.ts';
import type { Hook, HookPoint } from '../config/index.ts';
import { freeze, groupPids, removeGroups } from '../runtime/cgroup.ts';
import { alive, dirOf, listIds, load, release, stateJson, statusOf, type Saved } from '../runtime/state.ts';
import type { Global } from './context.ts';

/** Hooks are run by runtime/hooks.ts (which loads @nsk/clone and @nsk/ns), imported only when there are some. */
async function runHooks(point: HookPoint, hooks: readonly Hook[], state: object, inContainerOf?: number): Promise<void> {
  if (hooks.length) await (await import('../runtime/hooks.ts')).runHooks(point, hooks, state, inContainerOf);
}

export class StateError extends NskError {
  constructor(message: string) { super(message, 'ERR_NSK_CONTAINER_STATE'); }
}

/** start: opens the exec fifo; the container's open returns and it runs execve(2). */
export async function start(g: Global, id: string): Promise<void> {
  const s = load(g.root, id);
  const status = statusOf(g.root, s);
  if (status !== 'created') throw new StateError(`cannot start container ${id}: it is ${status}, not created`);
  const fifo = join(dirOf(g.root, id), 'exec.fifo');
  const hooks = loadHooks(s.bundle);
  // runtime-spec config.md: startContainer "MUST be called before the
  // user-specified process is executed as part of the start operation",
  // executed in the container namespace with its path resolved there: the
  // container has pivoted by now, so joining its namespaces and root
  // (hooks.ts) finds the path inside.
  await runHooks('startContainer', hooks.startContainer, stateJson(g.root, s, 'created'), s.pid);
  // fifo(7): a non-blocking open for reading succeeds at once and wakes the
  // writer waiting in open(2); then a blocking read sees EOF once it closes
  // its end — at execve (O_CLOEXEC), or when it dies.
  const fd = openSync(fifo, O.RDONLY | O.NONBLOCK | O.CLOEXEC);
  try {
    fcntl(fd, F.SETFL, O.RDONLY);
    const b = Buffer.alloc(16);
    while (readSync(fd, b, 0, 16, null) > 0);
  } finally {
    closeSync(fd);
  }
  unlinkSync(fifo);
  // No check that it is still alive: a short program may have run and
  // ended already (its exit belongs to the subreaper that waits for it).
  // A missing program was refused by create (runtime/program.ts), as runc does.
  await runHooks('poststart', hooks.poststart, stateJson(g.root, s, 'running')).catch((err: Error) => { process.stderr.write(`warning: ${err.message}\n`); });
}

export function state(g: Global, id: string): object {
  const s = load(g.root, id);
  return stateJson(g.root, s);
}

/** SIGTERM, TERM, 15 → 15. */
export function signalNumber(sig: string): number {
  if (/^\d+$/.test(sig)) {
    const n = Number(sig);
    if (n < 1 || n > 64) throw new ValidationError('signal', `not a signal number: ${sig}`);
    return n;
  }
  const name = sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new ValidationError('signal', `unknown signal ${JSON.stringify(sig)}`);
  return n;
}

export function kill(g: Global, id: string, sig: string, all: boolean): void {
  const s = load(g.root, id);
  const n = signalNumber(sig);
  const status = statusOf(g.root, s);
  if (status === 'stopped') throw new StateError(`container ${id} is not running`);
  const pids = all ? groupPids(s.groups) : [s.pid];
  for (const p of pids) { try { process.kill(p, n); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; } }
}

async function waitGone(s: Saved, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (alive(s)) {
    if (performance.now() > deadline) throw new StateError(`container ${s.id}: process ${s.pid} did not end`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function remove(g: Global, id: string, force: boolean): Promise<void> {
  let s: Saved;
  try {
    s = load(g.root, id);
  } catch (err) {
    // runc: delete --force of a missing container succeeds.
    if (force && (err as NskError).code === 'ERR_NSK_NO_CONTAINER') return;
    throw err;
  }
  const status = statusOf(g.root, s);
  if (status !== 'stopped' && status !== 'created' && !force) throw new StateError(`cannot delete container ${id}: it is ${status} (stop it first, or --force)`);
  if (status !== 'stopped') {
    if (status === 'paused') freeze(s.groups, false);
    try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
    await waitGone(s, 5000);
  }
  await removeGroups(s.groups);
  let hooks = null;
  try { hooks = loadHooks(s.bundle).poststop; } catch { /* bundle gone: no hooks to run */ }
  if (hooks) await runHooks('poststop', hooks, stateJson(g.root, s, 'stopped')).catch((err: Error) => { process.stderr.write(`warning: ${err.message}\n`); });
  release(g.root, id);
}

export function list(g: Global): Array<ReturnType<typeof stateJson>> {
  const out = [];
  for (const id of listIds(g.root)) {
    try { out.push(stateJson(g.root, load(g.root, id))); } catch { /* removed meanwhile */ }
  }
  return out;
}

export function ps(g: Global, id: string): number[] {
  const s = load(g.root, id);
  return groupPids(s.groups).sort((a, b) => a - b);
}

export function pause(g: Global, id: string, frozen: boolean): void {
  const s = load(g.root, id);
  const status = statusOf(g.root, s);
  if (frozen && status !== 'running') throw new StateError(`cannot pause container ${id}: it is ${status}`);
  if (!frozen && status !== 'paused') throw new StateError(`cannot resume container ${id}: it is ${status}`);
  freeze(s.groups, frozen);
}
