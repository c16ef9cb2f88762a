// The command's PATH search, done where it belongs: inside the container.
//
// execvp(3) tries each directory of PATH in turn and goes on while execve(2)
// answers ENOENT. A plan has no branches, but a step may tolerate an errno:
// one execve step per directory, each tolerating ENOENT, does the same —
// the first that succeeds replaces the process and no later step runs. The
// kernel resolves every candidate in the container's own root, so nothing
// of the rootfs is looked at from the host.
import { ValidationError } from '@nsk/syscall';
import type { Feature, Plan } from '@nsk/clone';

export interface ProgramSearch {
  /** The path spawn() executes last (without tolerating ENOENT). */
  path: string;
  /** Tried before it, in PATH order. */
  earlier: string[];
}

/** The candidates for `name` along `path` (a PATH value); a name with a slash is used as it is. */
export function searchPath(name: string, path: string | undefined, field = 'command'): ProgramSearch {
  if (name.includes('/')) return { path: name, earlier: [] };
  if (name === '' || name === '.' || name === '..') throw new ValidationError(field, `${JSON.stringify(name)} is not a program`);
  // An empty PATH entry means the working directory (execvp(3)).
  const dirs = (path ?? '').split(':').map((d) => (d === '' ? '.' : d));
  const candidates = [...new Set(dirs.map((d) => `${d.replace(/\/+$/, '')}/${name}`))];
  if (candidates.length === 0) throw new ValidationError(field, `${name} has no "/" and PATH is empty`);
  return { path: candidates.at(-1)!, earlier: candidates.slice(0, -1) };
}

/** The execve attempts before spawn()'s own, last, one. */
export function pathSearch(s: ProgramSearch, argv: readonly string[], env: readonly string[]): Feature {
  return {
    name: 'path-search',
    plan(plan: Plan) {
      for (const candidate of s.earlier) plan.execve(candidate, argv, env, { tolerate: 'ENOENT', label: `execute ${candidate} (PATH search: ENOENT goes on)` });
    },
  };
}
