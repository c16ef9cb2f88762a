// Running hooks (runtime-spec "POSIX-platform Hooks"): the program with its
// args and env, the state JSON on stdin, killed after `timeout` seconds.
// A hook in the container's namespaces (createContainer, startContainer)
// is spawned by @nsk/clone joined to all of them (@nsk/ns), its root the
// container process's root: for createContainer, run while the container
// waits before pivot_root (hook-pause.ts), that root is still the host's
// ("path MUST resolve in the runtime namespace"); for startContainer, after
// pivot_root, it is the container's ("MUST resolve in the container
// namespace").
import { spawn as spawnChild } from 'node:child_process';
import { closeSync, readFileSync, writeSync } from 'node:fs';
import { NskError, O, pipe2 } from '@nsk/syscall';
import { spawn } from '@nsk/clone';
import { joinNamespaces } from '@nsk/ns';
import type { Hook, HookPoint } from '../config/index.ts';

export class HookError extends NskError {
  constructor(point: HookPoint, i: number, hook: Hook, why: string) {
    super(`hooks.${point}[${i}] ${hook.path}: ${why}`, 'ERR_NSK_HOOK');
  }
}

function runHost(point: HookPoint, i: number, hook: Hook, state: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnChild(hook.path, hook.args.slice(1), { argv0: hook.args[0] ?? hook.path, env: Object.fromEntries(hook.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])), stdio: ['pipe', 'inherit', 'inherit'] });
    let timer: NodeJS.Timeout | undefined;
    if (hook.timeout !== null) timer = setTimeout(() => child.kill('SIGKILL'), hook.timeout * 1000);
    child.once('error', (err) => { clearTimeout(timer); reject(new HookError(point, i, hook, err.message)); });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new HookError(point, i, hook, signal === 'SIGKILL' && hook.timeout !== null ? `timed out after ${hook.timeout} s` : `exit ${code ?? signal}`));
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(state);
  });
}

async function runInContainer(point: HookPoint, i: number, hook: Hook, state: string, pid: number): Promise<void> {
  const [r, w] = pipe2(O.CLOEXEC);
  const join = joinNamespaces({ pid, preserveCredentials: true });
  try {
    writeSync(w, state);
    closeSync(w);
    const child = await spawn({ argv: hook.args.length ? hook.args : [hook.path], path: hook.path, env: hook.env, stdio: [r, 1, 2], features: [join] });
    let timer: NodeJS.Timeout | undefined;
    if (hook.timeout !== null) timer = setTimeout(() => child.kill('SIGKILL'), hook.timeout * 1000);
    const st = await child.exited;
    clearTimeout(timer);
    if (st.status !== 0) throw new HookError(point, i, hook, st.signal === 'SIGKILL' && hook.timeout !== null ? `timed out after ${hook.timeout} s` : `exit ${st.status}`);
  } catch (err) {
    if (err instanceof HookError) throw err;
    throw new HookError(point, i, hook, (err as Error).message);
  } finally {
    join.close();
    closeSync(r);
  }
}

/**
 * The pid as the container sees it: the last NSpid of /proc/PID/status
 * (proc(5): the pid in each pid namespace, outermost first).
 */
export function pidInside(pid: number): number {
  const m = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]!.trim().split(/\s+/).pop() ?? pid);
}

/**
 * Runs the hooks of `point` in order; the first failure throws. With
 * `inContainerOf`, in that process's namespaces, and the state's pid is the
 * one seen there (runtime.md "State": "For hooks executed in the container
 * namespace, it is the pid as seen by the container").
 */
export async function runHooks(point: HookPoint, hooks: readonly Hook[], state: object, inContainerOf?: number): Promise<void> {
  if (!hooks.length) return;
  const text = JSON.stringify(inContainerOf === undefined ? state : { ...state, pid: pidInside(inContainerOf) });
  for (const [i, h] of hooks.entries()) {
    if (inContainerOf !== undefined) await runInContainer(point, i, h, text, inContainerOf);
    else await runHost(point, i, h, text);
  }
}
