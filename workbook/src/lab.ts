// What every chapter needs: a root filesystem to play in, a way to run a
// program and read what it printed, and a look at the host's side.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs } from '@nsk/rootfs';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { O, close, pipe2 } from '@nsk/syscall';
import { spawn, type Child, type SpawnOptions } from '@nsk/clone';

export { run, sh, type RunResult } from '@nsk/testkit';
export { nsInode } from '@nsk/testkit';

export interface Scratch {
  /** The directory (absolute). */
  readonly path: string;
  /** Removes it. */
  dispose(): void;
}

/** A fresh temporary directory, removed by dispose(). */
export function scratchDir(prefix = 'nsk-workbook-'): Scratch {
  const base = mkdtempSync(join(tmpdir(), prefix));
  return { path: base, dispose: () => rmSync(base, { recursive: true, force: true }) };
}

/** A busybox root filesystem of its own, in a temporary directory. */
export function scratchRootfs(): Scratch {
  const dir = scratchDir('nsk-workbook-root-');
  const path = busyboxRootfs(join(dir.path, 'root'));
  return { path, dispose: dir.dispose };
}


export interface Conversation {
  readonly child: Child;
  /** The next line the child prints (stdout). */
  line(): Promise<string>;
  /** Writes a line to the child's stdin. */
  send(text: string): void;
  /** Closes the child's stdin and waits for it to end; the rest of stdout. */
  end(): Promise<{ status: number; rest: string[] }>;
}

/**
 * Starts a child whose stdin and stdout are pipes to us, for experiments
 * where the host must act between two of the container's steps ("mount
 * something now, then look again").
 */
export async function converse(options: SpawnOptions): Promise<Conversation> {
  const [inR, inW] = pipe2(O.CLOEXEC);
  const [outR, outW] = pipe2(O.CLOEXEC);
  let child: Child;
  try {
    child = await spawn({ ...options, stdio: [inR, outW, 2] });
  } catch (err) {
    for (const fd of [inW, outR]) close(fd);
    throw err;
  } finally {
    close(inR);
    close(outW);
  }
  const input = new Socket({ fd: inW, readable: false, writable: true });
  const output = new Socket({ fd: outR, readable: true, writable: false });
  const lines: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  let ended = false;
  const rl = createInterface({ input: output });
  rl.on('line', (l) => (waiting.length ? waiting.shift()!(l) : lines.push(l)));
  const closed = new Promise<void>((res) => rl.once('close', () => { ended = true; for (const w of waiting.splice(0)) w(''); res(); }));
  return {
    child,
    line: () => (lines.length ? Promise.resolve(lines.shift()!) : ended ? Promise.resolve('') : new Promise((res) => waiting.push(res))),
    send: (text) => { input.write(`${text}\n`); },
    end: async () => {
      input.end();
      const s = await child.exited;
      await closed;
      output.destroy();
      input.destroy();
      return { status: s.status, rest: lines.splice(0) };
    },
  };
}
