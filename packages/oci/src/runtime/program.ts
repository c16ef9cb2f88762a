// The program is found before anything is created. runc looks it up
// during `create` (so `create` fails, and podman or ctr report "executable
// file not found" at once); without this check a missing program would only
// show as a container that ends the moment `start` releases it.
//
// The lookup is execvp(3)'s, done on the host inside the rootfs (symlinks
// resolved as the container sees them, resolve.ts). A path under one of
// config.json's mount destinations is not judged: the mount may bring it.
import { statSync } from 'node:fs';
import { posix } from 'node:path';
import { ValidationError } from '@nsk/syscall';
import type { OciSpec } from '../config/index.ts';
import { envPath } from './compose.ts';
import { resolveInRoot } from './resolve.ts';

const FIELD = 'process.args[0]';

function underMount(spec: OciSpec, path: string): boolean {
  return spec.mounts.some((m) => path === m.destination || path.startsWith(`${m.destination.replace(/\/+$/, '')}/`));
}

/** 'yes', 'no', or 'unknown' (a mount may provide it). */
function executable(spec: OciSpec, path: string): 'yes' | 'no' | 'unknown' {
  if (underMount(spec, path)) return 'unknown';
  const r = resolveInRoot(spec.root.path, path, FIELD);
  if (underMount(spec, r.path)) return 'unknown';
  if (r.kind !== 'file') return 'no';
  // execve(2): EACCES unless some execute bit is set (root included).
  return (statSync(`${spec.root.path}${r.path}`).mode & 0o111) !== 0 ? 'yes' : 'no';
}

/** Throws a ValidationError naming process.args[0] when the program is not in the container. */
export function checkProgram(spec: OciSpec): void {
  const name = spec.process.args[0]!;
  const cwd = spec.process.cwd;
  if (name.includes('/')) {
    const path = posix.resolve(cwd, name);
    if (executable(spec, path) === 'no') throw new ValidationError(FIELD, `${name}: no executable file at ${path} in the container`);
    return;
  }
  const searchPath = envPath(spec.process.env) ?? '';
  for (const dir of searchPath.split(':')) {
    if (executable(spec, posix.resolve(cwd, dir || '.', name)) !== 'no') return;
  }
  throw new ValidationError(FIELD, `${name}: executable file not found in $PATH (${searchPath || 'empty'}) in the container`);
}
