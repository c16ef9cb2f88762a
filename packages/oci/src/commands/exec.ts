// exec: another process in a running container — every namespace of its
// process joined (@nsk/ns: user first, mount last, pid around clone), its
// cgroups joined by the parent, then the process's own capabilities,
// no_new_privs and the container's seccomp filter.
import { closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { NskError } from '@nsk/syscall';
import { spawn, type Feature } from '@nsk/clone';
import { joinNamespaces } from '@nsk/ns';
import { openTerminal, pathSearch, searchPath, setTerminalSize, terminalFeatures, type Terminal } from '@nsk/container';
import { checkProcess, loadConfig, type ProcessSpec } from '../config/index.ts';
import { credentialsFeature } from '../runtime/process-plan.ts';
import { sendConsole } from '../runtime/console-socket.ts';
import { envPath } from '../runtime/compose.ts';
import { load, statusOf } from '../runtime/state.ts';
import { namespaceInodes } from '../runtime/ns-inodes.ts';
import { StateError } from './lifecycle.ts';
import { writePidFile } from './create.ts';
import type { Global } from './context.ts';

export interface ExecOptions {
  process?: string;
  args: string[];
  cwd?: string;
  env: string[];
  tty: boolean;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
}

function processOf(base: ProcessSpec, o: ExecOptions): ProcessSpec {
  if (o.process !== undefined) {
    let raw: unknown;
    try { raw = JSON.parse(readFileSync(o.process, 'utf8')); } catch (err) { throw new NskError(`--process ${o.process}: ${(err as Error).message}`, 'ERR_NSK_PROCESS'); }
    return checkProcess(raw, 'process');
  }
  if (o.args.length === 0) throw new NskError('exec: give --process FILE or the command', 'ERR_NSK_PROCESS');
  return { ...base, args: o.args, terminal: o.tty, env: [...base.env, ...o.env], ...(o.cwd ? { cwd: o.cwd } : {}) };
}

/** Resolves with the exit status (or 0 when detached). */
export async function exec(g: Global, id: string, o: ExecOptions): Promise<number> {
  const s = load(g.root, id);
  const status = statusOf(g.root, s);
  if (status !== 'running' && status !== 'created') throw new StateError(`cannot exec in container ${id}: it is ${status}`);
  const now = namespaceInodes(s.pid);
  if (Object.entries(s.namespaces).some(([k, v]) => now[k] !== v)) throw new StateError(`container ${id}: process ${s.pid} is no longer the container`);
  const spec = loadConfig(s.bundle);
  const p = processOf(spec.process, o);
  if (p.terminal && !o.consoleSocket) throw new NskError('--tty needs --console-socket (the pty master is sent there)', 'ERR_NSK_NO_CONSOLE_SOCKET');
  const join = joinNamespaces({ pid: s.pid, preserveCredentials: true, minFd: 3 + (o.preserveFds ?? 0) });
  let terminal: Terminal | null = null;
  try {
    if (p.terminal) {
      terminal = openTerminal();
      if (p.consoleSize) setTerminalSize(terminal.master, p.consoleSize.height, p.consoleSize.width);
    }
    const tty = terminal ? terminalFeatures(terminal, { console: false }) : null;
    const cgroup: Feature = { name: 'cgroup', parent: ({ pid }) => { for (const d of s.groups.dirs) writeFileSync(joinPath(d, 'cgroup.procs'), String(pid)); } };
    const search = searchPath(p.args[0]!, envPath(p.env), 'process.args');
    const features: Feature[] = [
      ...(tty ? [tty.open] : []),
      join,
      cgroup,
      ...(tty ? [tty.attach] : []),
      credentialsFeature({ process: p, seccomp: spec.seccomp }),
      ...(search.earlier.length ? [pathSearch(search, p.args, p.env)] : []),
    ];
    const stdio: Array<number | null> = terminal ? [null, null, null] : [0, 1, 2];
    for (let i = 0; i < (o.preserveFds ?? 0); i++) stdio.push(3 + i);
    const child = await spawn({ argv: p.args, path: search.path, env: p.env, stdio, features });
    if (terminal) {
      sendConsole(o.consoleSocket!, terminal.master, terminal.slavePath);
      closeSync(terminal.master);
      terminal = null;
    }
    if (o.pidFile) writePidFile(o.pidFile, child.pid);
    if (o.detach) return 0;
    return (await child.exited).status;
  } catch (err) {
    if (terminal) closeSync(terminal.master);
    throw err;
  } finally {
    join.close();
  }
}
