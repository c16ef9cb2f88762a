// The hooks of a bundle, read again by `start` and `delete`: create has
// already checked the whole config.json, and checking it again (its seccomp
// profile compiled, every package loaded) would be most of those commands'
// time. Only `hooks` is read and checked here.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ValidationError } from '@nsk/syscall';
import { checkHooks, type Hooks } from './hooks.ts';

export function loadHooks(bundleDir: string): Hooks {
  const path = `${resolve(bundleDir)}/config.json`;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ValidationError('config.json', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return checkHooks((raw as { hooks?: unknown } | null)?.hooks);
}
