import { ERRNO_TABLE } from './errno-table.ts';

const byNumber = new Map<number, readonly [string, string]>();
const byName = new Map<string, number>();
for (const [n, name, text] of ERRNO_TABLE) {
  byNumber.set(n, [name, text]);
  byName.set(name, n);
}
// Aliases the headers define in terms of other names.
byName.set('EWOULDBLOCK', 11);
byName.set('EDEADLOCK', 35);
byName.set('ENOTSUP', 95);

/** `errnoName(2)` → `'ENOENT'`; unknown numbers read `'E#<n>'`. */
export function errnoName(errno: number): string {
  return byNumber.get(errno)?.[0] ?? `E#${errno}`;
}

/** `errnoText(2)` → `'No such file or directory'`. */
export function errnoText(errno: number): string {
  return byNumber.get(errno)?.[1] ?? 'Unknown error';
}

/** `errnoNumber('ENOENT')` → `2`; throws a RangeError for names Linux lacks. */
export function errnoNumber(name: string): number {
  const n = byName.get(name);
  if (n === undefined) throw new RangeError(`unknown errno name ${JSON.stringify(name)}`);
  return n;
}

/** Every errno as name → number (the same numbers on x86_64 and aarch64). */
export const ERRNO: Readonly<Record<string, number>> = Object.freeze(Object.fromEntries(byName));
