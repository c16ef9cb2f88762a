// `nsk run` without -d: nsk is the container's supervisor. It records the
// container (so `nsk ps` lists it and `nsk exec` can join it), passes its
// signals on, joins its terminal with -t, and exits with its status. The
// record goes when the container ends: nsk's exit status is the report.
import { closeSync, openSync } from 'node:fs';
import type { ContainerSpec } from '@nsk/container';
import { createdRecord, runningRecord, sleep } from './lifecycle.ts';
import { proxySignals } from './signals.ts';
import { removeDir, reserve, writeRecord } from './state.ts';
import type { Attached } from './tty.ts';

export async function runForeground(spec: ContainerSpec, o: { interactive: boolean }): Promise<number> {
  const signals = proxySignals(spec.tty ? ['SIGWINCH'] : []);
  const { pendingState, prepare, start } = await import('@nsk/container');
  // node:tty and the terminal code only for -t.
  const tty = spec.tty ? await import('./tty.ts') : null;
  // Without -i the container reads end-of-file, as under docker.
  const stdin = o.interactive ? 0 : openSync('/dev/null', 'r');
  try {
    if (!spec.tty) spec.stdio = [stdin, 1, 2];
    // The pty has nsk's window size before the command runs.
    else spec.tty = tty!.ttyOption();
    const prepared = prepare(spec);
    const name = spec.name!;
    reserve(name);
    const created = createdRecord(name, { detached: false, autoRemove: true, pending: pendingState(prepared) });
    writeRecord(created);
    let container;
    try {
      container = await start(prepared);
    } catch (err) {
      removeDir(name);
      throw err;
    }
    let attached: Attached | undefined;
    try {
      writeRecord(runningRecord(created, container));
      if (container.terminal !== undefined) attached = tty!.attachTerminal(container.terminal, { stdin: o.interactive });
    } catch (err) {
      // Nobody would be left to wait for it: end it before reporting.
      attached?.restore();
      container.kill('SIGKILL');
      await container.exited;
      if (container.terminal !== undefined) closeSync(container.terminal);
      removeDir(name);
      throw err;
    }
    signals.to((s) => { container.kill(s); });
    const status = await container.exited;
    signals.stop();
    if (attached) {
      // The rest of its output is still in the pty: copy it before leaving.
      await Promise.race([attached.done, sleep(1000)]);
      attached.restore();
    }
    if (container.terminal !== undefined) closeSync(container.terminal);
    removeDir(name);
    for (const e of status.cleanupErrors ?? []) process.stderr.write(`nsk: cleanup: ${e instanceof Error ? e.message : String(e)}\n`);
    return status.status;
  } finally {
    signals.stop();
    if (stdin !== 0) closeSync(stdin);
  }
}
