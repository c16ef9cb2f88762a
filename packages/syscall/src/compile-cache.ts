// Node's compile cache for nsk's commands (`nsk`, `nsk-runtime`): V8's
// compiled code for their modules, kept on disk between runs. A command is
// a short process, and compiling its code was a good part of its start-up.
//
// Imported on its own (`@nsk/syscall/compile-cache`, no koffi, no other
// module) as the first thing a command does: the cache only serves modules
// loaded after it is turned on. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
import { enableCompileCache } from 'node:module';

/**
 * Where the cache lives: NODE_COMPILE_CACHE when set (Node reads it), else
 * a directory of the caller's own; none without a home. Node's default,
 * os.tmpdir()/node-compile-cache, is shared: whoever makes it first owns
 * it, so every other user gets no cache at all, and root would run code
 * compiled into a directory another user could have made.
 */
export function compileCacheDir(): string | null | undefined {
  if (process.env.NODE_COMPILE_CACHE) return undefined;
  if (process.getuid?.() === 0) return '/var/cache/nsk/compile-cache';
  const cache = process.env.XDG_CACHE_HOME || (process.env.HOME ? `${process.env.HOME}/.cache` : null);
  return cache === null ? null : `${cache}/nsk/compile-cache`;
}

/** Turns the cache on (in compileCacheDir()) for every module loaded from now on. */
export function useCompileCache(): void {
  const dir = compileCacheDir();
  if (dir !== null) enableCompileCache?.(dir);
}
