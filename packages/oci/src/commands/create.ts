// create: everything set up, the container process waiting at the exec
// fifo (runc's model, see README "Who waits for the container"). With
// prestart, createRuntime or createContainer hooks, the child first pauses
// before pivot_root while they run (hook-pause.ts).
import { closeSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NskError, O, F, fcntl, pipe2, close } from '@nsk/syscall';
import { spawn, type Feature } from '@nsk/clone';
import { openTerminal, setTerminalSize, type Terminal } from '@nsk/container';
import { loadConfig, type OciSpec } from '../config/index.ts';
import { composeCreate } from '../runtime/compose.ts';
import { attachFeature, createGroups, prepareGroups, removeGroups, type Groups } from '../runtime/cgroup.ts';
import { freeFd, mkfifoSync } from '../runtime/exec-fifo.ts';
import { sendConsole } from '../runtime/console-socket.ts';
import { runHooks } from '../runtime/hooks.ts';
import { hookPause, readByte, type HookPause } from '../runtime/hook-pause.ts';
import { checkOwnership } from '../runtime/owned-namespaces.ts';
import { checkProgram } from '../runtime/program.ts';
import { checkId, claim, release, save, startTime, stateJson, type Saved } from '../runtime/state.ts';
import { namespaceInodes } from '../runtime/ns-inodes.ts';
import type { Global } from './context.ts';

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  noPivot?: boolean;
}

/** Writes the pid file as runc does: a temporary file renamed over it. */
export function writePidFile(path: string, pid: number): void {
  const tmp = join(path, '..', `.${path.split('/').pop()}.tmp`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, path);
}

export async function create(g: Global, id: string, o: CreateOptions): Promise<Saved> {
  checkId(id);
  const spec: OciSpec = loadConfig(o.bundle);
  const preserveFds = o.preserveFds ?? 0;
  if (spec.process.terminal && !o.consoleSocket) throw new NskError('process.terminal is true: give --console-socket (the pty master is sent there)', 'ERR_NSK_NO_CONSOLE_SOCKET');
  if (!spec.process.terminal && o.consoleSocket) throw new NskError('--console-socket is for process.terminal: true', 'ERR_NSK_CONSOLE_SOCKET');
  checkProgram(spec);
  checkOwnership(spec);
  const prepared = prepareGroups(spec, id);
  const dir = claim(g.root, id);
  let groups: Groups | null = null;
  let terminal: Terminal | null = null;
  let pid = 0;
  let readyRead = -1;
  let readyWrite = -1;
  let pause: HookPause | null = null;
  try {
    const fifo = join(dir, 'exec.fifo');
    mkfifoSync(fifo, 0o622);
    groups = createGroups(spec, prepared);
    if (spec.process.terminal) {
      terminal = openTerminal();
      if (spec.process.consoleSize) setTerminalSize(terminal.master, spec.process.consoleSize.height, spec.process.consoleSize.width);
    }
    const min = 3 + preserveFds;
    [readyRead, readyWrite] = pipe2(O.CLOEXEC);
    if (readyWrite < min) { const moved = fcntl(readyWrite, F.DUPFD_CLOEXEC, min + 1); close(readyWrite); readyWrite = moved; }
    const h = spec.hooks;
    if (h.prestart.length || h.createRuntime.length || h.createContainer.length) pause = hookPause(min);
    const slot = freeFd(Math.max(min + 16, 64));
    const learnPid: Feature = { name: 'pid', parent: (c) => { pid = c.pid; } };
    const { options, join: joined } = composeCreate(spec, {
      fifo, readyFd: readyWrite, fifoSlot: slot, terminal, preserveFds, noPivot: o.noPivot ?? false, parentFeatures: [learnPid, attachFeature(groups)],
      hookPause: pause?.feature ?? null,
    });
    const started = spawn(options);
    started.catch(() => {});
    joined?.close();
    pause?.cloned();
    close(readyWrite);
    readyWrite = -1;
    const created = new Date().toISOString();
    const record = (): Saved => {
      const s: Saved = {
        ociVersion: spec.ociVersion, id, pid, startTime: startTime(pid) ?? '', bundle: spec.bundle, rootfs: spec.root.path,
        annotations: spec.annotations, created, groups: groups!, namespaces: namespaceInodes(pid),
      };
      save(g.root, s);
      return s;
    };
    if (pause) {
      if (!(await pause.reached())) {
        await started; // rejects with the step that failed
        throw new NskError('the container ended before its mounts were made', 'ERR_NSK_CREATE');
      }
      // runtime.md: "creating: the container is being created"; the hooks
      // are part of the create operation. Saved now so that a hook may ask
      // `state`.
      const state = stateJson(g.root, record(), 'creating');
      await runHooks('prestart', h.prestart, state);
      await runHooks('createRuntime', h.createRuntime, state);
      await runHooks('createContainer', h.createContainer, state, pid);
      pause.release();
    }
    const n = await readByte(readyRead);
    if (n !== 1) {
      await started; // rejects with the step that failed
      throw new NskError('the container ended before it was ready', 'ERR_NSK_CREATE');
    }
    const saved = record();
    if (terminal) {
      sendConsole(o.consoleSocket!, terminal.master, terminal.slavePath);
      closeSync(terminal.master);
      terminal = null;
    }
    if (o.pidFile) writePidFile(o.pidFile, pid);
    return saved;
  } catch (err) {
    if (pid > 0) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    if (groups) await removeGroups(groups).catch(() => {});
    if (terminal) closeSync(terminal.master);
    release(g.root, id);
    throw err;
  } finally {
    pause?.close();
    if (readyRead >= 0) close(readyRead);
    if (readyWrite >= 0) close(readyWrite);
  }
}
