// Option checks shared by every call: they throw ValidationError before
// anything is mounted or cloned.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { ValidationError } from '@nsk/syscall';

/** An absolute path without NUL bytes, normalized (`/a//b/` → `/a/b`). */
export function absolute(field: string, path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw new ValidationError(field, `must be a path: ${String(path)}`);
  if (path.includes('\0')) throw new ValidationError(field, `contains a NUL byte: ${JSON.stringify(path)}`);
  if (!isAbsolute(path)) throw new ValidationError(field, `must be an absolute path: ${JSON.stringify(path)}`);
  const n = normalize(path);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** An absolute path that exists in this process's view (`kind`: what it must be). */
export function existing(field: string, path: unknown, kind?: 'directory'): string {
  const p = absolute(field, path);
  if (kind === 'directory' && !(existsSync(p) && statSync(p).isDirectory())) throw new ValidationError(field, `${p} is not a directory`);
  if (!existsSync(p)) throw new ValidationError(field, `${p} does not exist`);
  return p;
}

/** True when `path` is `dir` or below it. */
export function under(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}
