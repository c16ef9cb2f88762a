// Runs a child to completion and returns what it printed.
import { spawn, type Child, type ExitStatus, type SpawnOptions } from '@nsk/clone';
import { capture } from './capture.ts';

export interface RunResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/**
 * spawn(options) with stdout and stderr captured; `during` runs while the
 * child lives (to look at it from outside). Resolves when it has ended.
 */
export async function run(options: SpawnOptions, during?: (child: Child) => void | Promise<void>): Promise<RunResult> {
  const out = capture();
  const err = capture();
  let child: Child;
  try {
    child = await spawn({ ...options, stdio: [options.stdio?.[0] ?? null, out.fd, err.fd] });
  } catch (e) {
    // Let both read ends see end-of-file and close before reporting, so a
    // leftover-fd check right after sees none of ours.
    await Promise.all([out.text(), err.text()]);
    throw e;
  }
  // Our write ends close now; the child holds its own copies.
  void out.text();
  void err.text();
  if (during) {
    try {
      await during(child);
    } catch (e) {
      child.kill('SIGKILL');
      await child.exited;
      throw e;
    }
  }
  const status = await child.exited;
  return { ...status, stdout: await out.text(), stderr: await err.text() };
}

/** `/bin/sh -c script` through run(); throws with the output unless it exits 0. */
export async function sh(script: string, options: Omit<SpawnOptions, 'argv'> = {}): Promise<string> {
  const r = await run({ ...options, argv: ['/bin/sh', '-c', script] });
  if (r.status !== 0) throw new Error(`sh -c ${JSON.stringify(script)} exited ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}
