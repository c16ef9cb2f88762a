// `nsk run -d`: a supervisor outlives this command. It is this same
// program started again (`nsk __supervise NAME`) as a detached Node
// process: its own session (setsid(2): no terminal, no job-control
// signals), stdin from /dev/null, stderr into the container's log. It tells
// us on fd 3 whether the container started, then we print its name and go.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ContainerSpec } from '@nsk/container';
import { NskError } from '@nsk/syscall';
import { cleanDead, createdRecord } from './lifecycle.ts';
import { readRecord, removeDir, reserve, stateRoot, writeRecord } from './state.ts';

/** What the supervisor reads from spec.json. */
export interface SavedSpec {
  spec: ContainerSpec;
  /** The image store's root when the container runs an image. */
  storeRoot?: string;
  autoRemove: boolean;
}

/** What the supervisor answers on fd 3, one JSON line. */
export type Readiness = { ok: true; pid: number } | { ok: false; error: string; exit: number };

/** A failure the supervisor reported, with the exit status it chose (125–127). */
export class StartError extends NskError {
  readonly exit: number;
  constructor(message: string, exit: number) {
    super(message, 'ERR_NSK_START');
    this.exit = exit;
  }
}

async function firstLine(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split('\n')[0]!;
}

export async function runDetached(spec: ContainerSpec, o: { autoRemove: boolean; storeRoot?: string }): Promise<number> {
  const { prepare } = await import('@nsk/container');
  // Every check happens here, so bad flags fail in this process, before a
  // directory or a supervisor exists.
  prepare({ ...spec, stdio: [null, null, null] });
  const name = spec.name!;
  const dir = reserve(name);
  const log = join(dir, 'log');
  let logFd = -1;
  try {
    const saved: SavedSpec = { spec: { ...spec, store: undefined }, autoRemove: o.autoRemove, ...(o.storeRoot ? { storeRoot: o.storeRoot } : {}) };
    delete saved.spec.store;
    writeFileSync(join(dir, 'spec.json'), `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
    writeRecord(createdRecord(name, { detached: true, autoRemove: o.autoRemove, log }));
    logFd = openSync(log, 'a', 0o600);
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '__supervise', name], {
      detached: true,
      cwd: '/',
      env: { ...process.env, NSK_STATE_DIR: stateRoot() },
      stdio: ['ignore', 'ignore', logFd, 'pipe'],
    });
    closeSync(logFd);
    logFd = -1;
    const pipe = child.stdio[3] as Readable;
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await spawned;
    const line = await firstLine(pipe);
    pipe.destroy();
    child.unref();
    let answer: Readiness;
    try {
      answer = JSON.parse(line) as Readiness;
    } catch {
      // It died without answering: whatever it started is cleaned as any
      // container whose supervisor died.
      const rec = readRecord(name);
      if (rec) await cleanDead({ ...rec, autoRemove: true });
      throw new StartError(`the supervisor (pid ${child.pid}) ended before it reported the container started (see ${log})`, 125);
    }
    if (!answer.ok) throw new StartError(answer.error, answer.exit);
    process.stdout.write(`${name}\n`);
    return 0;
  } catch (err) {
    if (logFd >= 0) closeSync(logFd);
    // The supervisor removes what it made when start fails; this covers a
    // supervisor that never ran.
    removeDir(name);
    throw err;
  }
}
