// The state directory: one directory per container under --root, holding
// state.json (written once by create, then only read) and the exec fifo.
// The status is never stored: it is read from the kernel each time
// (runtime-spec "State"): the process gone (or a zombie, or a reused pid
// whose start time differs) → stopped; the fifo still there → created;
// else running (or paused, when its freezer says so).
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NskError, ValidationError } from '@nsk/syscall';
import { isFrozen, type Groups } from './cgroup.ts';

export { DEFAULT_ROOT } from './root.ts';
export const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface Saved {
  ociVersion: string;
  id: string;
  pid: number;
  /** /proc/PID/stat field 22: tells a reused pid from ours. */
  startTime: string;
  bundle: string;
  rootfs: string;
  annotations: Record<string, string>;
  created: string;
  groups: Groups;
  /** The namespaces the container process is in, kind → inode (exec checks them). */
  namespaces: Record<string, number>;
}

export class NotFoundError extends NskError {
  constructor(id: string) { super(`container ${id} does not exist`, 'ERR_NSK_NO_CONTAINER'); }
}

export function checkId(id: unknown): string {
  if (typeof id !== 'string' || !ID.test(id)) throw new ValidationError('id', `${JSON.stringify(id)}: letters, digits, "_ . + -", starting with a letter or digit`);
  return id;
}

export const dirOf = (root: string, id: string) => join(root, checkId(id));

/** /proc/PID/stat's start time, or null when the process is gone or a zombie. */
export function startTime(pid: number): string | null {
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return null; }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (f[0] === 'Z' || f[0] === 'X') return null;
  return f[19] ?? null;
}

export function load(root: string, id: string): Saved {
  const dir = dirOf(root, id);
  try {
    return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Saved;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(id);
    throw err;
  }
}

export function alive(s: Saved): boolean {
  return startTime(s.pid) === s.startTime;
}

export function statusOf(root: string, s: Saved): Status {
  if (!alive(s)) return 'stopped';
  if (existsSync(join(dirOf(root, s.id), 'exec.fifo'))) return 'created';
  try { if (isFrozen(s.groups)) return 'paused'; } catch { /* no freezer */ }
  return 'running';
}

/** runtime-spec's state document. */
export function stateJson(root: string, s: Saved, status: Status = statusOf(root, s)) {
  return {
    ociVersion: s.ociVersion,
    id: s.id,
    status,
    pid: status === 'stopped' ? 0 : s.pid,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    annotations: s.annotations,
  };
}

export function save(root: string, s: Saved): void {
  const dir = dirOf(root, s.id);
  const tmp = join(dir, '.state.json.tmp');
  writeFileSync(tmp, JSON.stringify(s));
  renameSync(tmp, join(dir, 'state.json'));
}

/** mkdir of the container's directory: EEXIST means the id is taken. */
export function claim(root: string, id: string): string {
  mkdirSync(root, { recursive: true, mode: 0o711 });
  const dir = dirOf(root, id);
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new NskError(`container ${id} already exists`, 'ERR_NSK_CONTAINER_EXISTS');
    throw err;
  }
  return dir;
}

export function release(root: string, id: string): void {
  rmSync(dirOf(root, id), { recursive: true, force: true });
}

export function listIds(root: string): string[] {
  try { return readdirSync(root).filter((n) => ID.test(n) && existsSync(join(root, n, 'state.json'))); } catch { return []; }
}
