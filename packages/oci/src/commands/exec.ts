// exec: another process in a running container — every namespace of its
// process joined (@nsk/ns: user first, mount last, pid around clone), its
// cgroups joined by the parent, then the process's own capabilities,
// no_new_privs and the container's seccomp filter.
import { closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { NskError } from '@nsk/syscall';
import { spawn, type Feature } from '@nsk/clone';
import { joinNamespaces } from '@nsk/ns';
import { capabilityName, openTerminal, pathSearch, searchPath, setTerminalSize, terminalFeatures, type Terminal } from '@nsk/container';
import { checkProcess, loadConfig, type Capabilities, type ProcessSpec } from '../config/index.ts';
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
  /** `UID[:GID]`: the config's user with these ids. */
  user?: string;
  /** Supplementary groups added to the config's (`--additional-gids`, also `10,20`). */
  additionalGids?: string[];
  /** Capabilities added to the config's bounding, effective and permitted sets (`--cap`). */
  caps?: string[];
  /** no_new_privs for this process even when the config has none. */
  noNewPrivs?: boolean;
}

const usage = (message: string) => new NskError(`exec: ${message}`, 'ERR_NSK_USAGE');

function id(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 0xfffffffe) throw usage(`${flag}: not a user or group id: ${JSON.stringify(v)}`);
  return n;
}

/** `--user UID[:GID]`: numbers only (runc), no names (the rootfs's /etc/passwd is not read). */
function userOf(v: string): { uid: number; gid?: number } {
  const [u = '', g, ...more] = v.split(':');
  if (more.length) throw usage(`--user: UID[:GID], not ${JSON.stringify(v)}`);
  return { uid: id('--user', u), ...(g !== undefined ? { gid: id('--user', g) } : {}) };
}

/**
 * runc's `exec --cap`: each capability joins the bounding, effective and
 * permitted sets. Ambient needs the capability inheritable too
 * (capabilities(7): PR_CAP_AMBIENT_RAISE fails with EPERM otherwise), which
 * --cap does not add: it becomes ambient only where the config already
 * made it inheritable.
 */
function withCaps(c: Capabilities, caps: string[]): Capabilities {
  const names = caps.map((x) => {
    const n = capabilityName(x);
    if (n === null || n === 'ALL') throw usage(`--cap: unknown capability ${JSON.stringify(x)} (capabilities(7): CAP_NET_ADMIN, net_admin, …)`);
    return n;
  });
  const add = (set: string[], more: string[]) => [...new Set([...set, ...more])];
  return {
    bounding: add(c.bounding, names),
    effective: add(c.effective, names),
    permitted: add(c.permitted, names),
    inheritable: c.inheritable,
    ambient: add(c.ambient, names.filter((n) => c.inheritable.includes(n))),
  };
}

function processOf(base: ProcessSpec, o: ExecOptions): ProcessSpec {
  if (o.process !== undefined) {
    if (o.user !== undefined || o.additionalGids?.length || o.caps?.length || o.noNewPrivs) throw usage('--user, --additional-gids, --cap and --no-new-privs change the config’s process: with --process FILE, write them in the file');
    let raw: unknown;
    try { raw = JSON.parse(readFileSync(o.process, 'utf8')); } catch (err) { throw new NskError(`--process ${o.process}: ${(err as Error).message}`, 'ERR_NSK_PROCESS'); }
    return checkProcess(raw, 'process');
  }
  if (o.args.length === 0) throw new NskError('exec: give --process FILE or the command', 'ERR_NSK_PROCESS');
  const user = o.user !== undefined ? userOf(o.user) : null;
  const gids = (o.additionalGids ?? []).flatMap((v) => v.split(',')).map((v) => id('--additional-gids', v));
  return {
    ...base, args: o.args, terminal: o.tty, env: [...base.env, ...o.env], ...(o.cwd ? { cwd: o.cwd } : {}),
    ...(user ? { uid: user.uid, gid: user.gid ?? base.gid } : {}),
    additionalGids: [...new Set([...base.additionalGids, ...gids])],
    capabilities: o.caps?.length ? withCaps(base.capabilities, o.caps) : base.capabilities,
    noNewPrivileges: base.noNewPrivileges || (o.noNewPrivs ?? false),
  };
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
