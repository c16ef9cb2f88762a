// The supervisor of a detached container (`nsk run -d`): started by
// detach.ts as `nsk __supervise NAME`, in its own session. It starts the
// container, answers on fd 3, records it running, waits, records how it
// ended (or, with --rm, removes it), and is gone. Signals it receives go
// on to the container, so killing the supervisor politely stops it.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import tty from 'node:tty';
import type { Container, ContainerSpec } from '@nsk/container';
import { F, fcntl } from '@nsk/syscall';
import type { Readiness, SavedSpec } from './detach.ts';
import { describe, exitCodeFor } from './errors.ts';
import { createdRecord, exitedRecord, runningRecord, sleep } from './lifecycle.ts';
import { proxySignals } from './signals.ts';
import { containerDir, removeDir, writeRecord, type ContainerRecord } from './state.ts';

/** fd 3: the pipe detach.ts reads the readiness line from. */
const READY_FD = 3;

function answer(a: Readiness): void {
  try {
    writeSync(READY_FD, `${JSON.stringify(a)}\n`);
  } catch {
    // `nsk run -d` is gone (killed): nobody to tell.
  }
  try {
    closeSync(READY_FD);
  } catch { /* already closed */ }
}

/**
 * With -t, the pty's output goes to the log (nobody types into it; its
 * size is the classic 80×24, set at start). Resolves when the container's side closed.
 */
function copyTerminal(master: number, logFd: number): Promise<void> {
  // Our own descriptor of the master: the stream closes it, the container owns the original.
  const reader = new tty.ReadStream(fcntl(master, F.DUPFD_CLOEXEC, 3));
  reader.on('data', (d: Buffer) => {
    try {
      writeSync(logFd, d);
    } catch { /* the log is gone: nsk rm -f */ }
  });
  // pty(7): EIO once every fd of the slave side is closed.
  return new Promise((resolve) => {
    reader.on('error', () => { reader.destroy(); resolve(); });
    reader.on('close', () => resolve());
  });
}

export async function supervise(argv: string[]): Promise<number> {
  const name = argv[0]!;
  const dir = containerDir(name);
  const saved = JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8')) as SavedSpec;
  const log = join(dir, 'log');
  let created = createdRecord(name, { detached: true, autoRemove: saved.autoRemove, log });
  writeRecord(created);

  // Caught from now on: `kill <supervisor>` while it starts the container must not orphan it.
  const signals = proxySignals();
  const logFd = openSync(log, 'a');
  const nullFd = openSync('/dev/null', 'r');
  const spec: ContainerSpec = { ...saved.spec };
  if (!spec.tty) spec.stdio = [nullFd, logFd, logFd];
  // A detached pty is the classic 80×24 from the start: nobody's window to follow.
  else spec.tty = { rows: 24, columns: 80 };
  let container: Container;
  try {
    const { pendingState, prepare, start } = await import('@nsk/container');
    if (spec.image !== undefined) {
      const { ImageStore } = await import('@nsk/rootfs');
      spec.store = new ImageStore(saved.storeRoot ? { root: saved.storeRoot } : {});
    }
    const prepared = prepare(spec);
    // If this process dies while starting it, nsk ps/rm find what got made from this.
    created = { ...created, pending: pendingState(prepared) };
    writeRecord(created);
    container = await start(prepared);
  } catch (err) {
    const message = describe(err) ?? (err instanceof Error ? err.stack ?? err.message : String(err));
    answer({ ok: false, error: message, exit: exitCodeFor(err) });
    removeDir(name);
    return 1;
  } finally {
    closeSync(nullFd);
  }
  signals.to((s) => { container.kill(s); });
  let running: ContainerRecord;
  let copied: Promise<void>;
  try {
    running = runningRecord(created, container);
    writeRecord(running);
    copied = container.terminal !== undefined ? copyTerminal(container.terminal, logFd) : Promise.resolve();
  } catch (err) {
    // Not recorded: nobody could find it to stop it. End it and say why.
    container.kill('SIGKILL');
    await container.exited;
    answer({ ok: false, error: describe(err) ?? String(err), exit: 125 });
    removeDir(name);
    return 1;
  }
  answer({ ok: true, pid: container.pid });

  const status = await container.exited;
  signals.stop();
  await Promise.race([copied, sleep(1000)]);
  if (container.terminal !== undefined) closeSync(container.terminal);
  const ended = exitedRecord(running, status);
  if (ended.error) process.stderr.write(`nsk: ${ended.error}\n`);
  if (saved.autoRemove) removeDir(name);
  else writeRecord(ended);
  closeSync(logFd);
  return 0;
}
