// The state directory: what `nsk ps`, `exec`, `stop`, `rm` … know about
// containers started by other nsk processes.
//
//   /run/nsk/                      (root; else $XDG_RUNTIME_DIR/nsk; NSK_STATE_DIR overrides)
//     containers/<name>/state.json the record below, replaced atomically (rename(2))
//     containers/<name>/spec.json  what a detached supervisor is to start
//     containers/<name>/log        a detached container's stdout and stderr
//
// A tmpfs (/run) is the right home: after a reboot no container is running,
// and no stale record survives to say otherwise.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CleanupTarget, ContainerState } from '@nsk/container';
import { ValidationError } from '@nsk/syscall';

/** How a container's process ended (as @nsk/clone's ExitStatus). */
export interface ExitRecord {
  code: number | null;
  signal: string | null;
  /** As a shell reports it: the code, or 128 + the signal number. */
  status: number;
}

/** A process, told apart from a later one with the same pid by its start time. */
export interface ProcessRef {
  pid: number;
  /** /proc/PID/stat field 22 (starttime, clock ticks since boot). */
  startTime: number;
}

interface Base {
  name: string;
  /** The process that started the container and waits for it: `nsk run` itself, or the detached supervisor. */
  supervisor: ProcessRef;
  detached: boolean;
  /** --rm: the record goes when the container ends. */
  autoRemove: boolean;
  createdAt: string;
  /** The detached container's output, else absent. */
  log?: string;
}

/** The supervisor is starting the container: no pid yet. */
export interface CreatedRecord extends Base {
  status: 'created';
  /**
   * What is known of the container before it starts (@nsk/container's
   * pendingState(): its cgroup, where its lease would be), so that
   * cleanupState() finds what got made if the supervisor dies while starting it.
   */
  pending?: CleanupTarget;
}

/**
 * running: the supervisor waits for it. exited: it ended and was cleaned
 * up. dead: its supervisor died first; `ps`/`rm` killed what was left.
 */
export interface ContainerRecord extends Base, ContainerState {
  status: 'running' | 'exited' | 'dead';
  /** The container's init, as /proc knew it at start. */
  pidStartTime: number;
  exit?: ExitRecord;
  finishedAt?: string;
  /** Why it is dead, or what its cleanup reported. */
  error?: string;
}

export type StateRecord = CreatedRecord | ContainerRecord;

/** The state directory for this caller. */
export function stateRoot(): string {
  const env = process.env.NSK_STATE_DIR;
  if (env) return env;
  if (process.getuid?.() === 0) return '/run/nsk';
  const xdg = process.env.XDG_RUNTIME_DIR;
  return xdg ? join(xdg, 'nsk') : `/tmp/nsk-${process.getuid?.() ?? 'user'}`;
}

/**
 * Where bridge leases and the containers' /etc/hosts and resolv.conf live
 * (@nsk/container's networkHost.stateDir): `$NSK_STATE_DIR/net` when
 * NSK_STATE_DIR is set — an nsk with a state directory of its own keeps its
 * network state apart too — else undefined: @nsk/net's /var/lib/nsk/net.
 */
export function networkStateDir(): string | undefined {
  const env = process.env.NSK_STATE_DIR;
  return env ? resolve(env, 'net') : undefined;
}

export const containersDir = (): string => join(stateRoot(), 'containers');
export const containerDir = (name: string): string => join(containersDir(), name);

/** docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]*; it is also a directory name here. */
export function checkName(name: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/.test(name)) {
    throw new ValidationError('name', `${JSON.stringify(name)} must be 1–64 letters, digits, "_", "." or "-", starting with a letter or digit`);
  }
}

/**
 * Takes `name` for a new container: mkdir(2) is atomic, so two `nsk run
 * --name x` cannot both get it. Returns its directory.
 */
export function reserve(name: string): string {
  checkName(name);
  mkdirSync(containersDir(), { recursive: true, mode: 0o700 });
  const dir = containerDir(name);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ValidationError('name', `the name ${JSON.stringify(name)} is in use by a container (see nsk ps -a; remove it with nsk rm ${name})`);
    }
    throw err;
  }
  return dir;
}

/** Writes the record through a temporary file and rename(2), so a reader never sees half of it. False when the directory is gone (removed meanwhile). */
export function writeRecord(rec: StateRecord): boolean {
  const dir = containerDir(rec.name);
  const tmp = join(dir, `.state.json.${process.pid}`);
  try {
    writeFileSync(tmp, `${JSON.stringify(rec, null, 2)}\n`);
    renameSync(tmp, join(dir, 'state.json'));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** The record, or null when there is none (not yet written, or removed). */
export function readRecord(name: string): StateRecord | null {
  try {
    return JSON.parse(readFileSync(join(containerDir(name), 'state.json'), 'utf8')) as StateRecord;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || err instanceof SyntaxError) return null;
    throw err;
  }
}

/** Every container name in the state directory. */
export function names(): string[] {
  try {
    return readdirSync(containersDir()).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Removes the container's directory (record, spec, log). */
export function removeDir(name: string): void {
  rmSync(containerDir(name), { recursive: true, force: true });
}

/** starttime from /proc/PID/stat (proc(5): field 22), or null when there is no such process or it is a zombie. */
export function startTimeOf(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return null;
  return Number(fields[19]);
}

/** True while the very process `ref` names runs (not a later one that got its pid). */
export function alive(ref: ProcessRef): boolean {
  return startTimeOf(ref.pid) === ref.startTime;
}

export function selfRef(): ProcessRef {
  return { pid: process.pid, startTime: startTimeOf(process.pid) ?? 0 };
}
