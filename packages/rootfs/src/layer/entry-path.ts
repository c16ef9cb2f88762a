// Which archive member names are acceptable, and their normal form.
//
// Decision: a name that is absolute or has a ".." component is refused, not
// rewritten. GNU tar strips the leading "/" and skips "../" members with a
// warning; image layers written by docker, buildkit and Go's archive/tar
// never contain either, so one in a layer is a sign of a hostile or broken
// archive, and refusing it is the clearer answer. "." components, empty
// components ("a//b") and a trailing "/" are dropped ("./usr/bin/" →
// "usr/bin"); the root itself is "".
import { UnsafeArchiveError, display } from './errors.ts';

/**
 * `name` as a relative path inside the root ('' for the root itself).
 * Throws UnsafeArchiveError naming `entry` (the entry whose name or link
 * target `name` is) and saying `what` was wrong.
 */
export function entryPath(name: string, what = 'its name', entry = name): string {
  if (name.length === 0) throw new UnsafeArchiveError(display(entry), `${what} is empty`);
  if (name.charCodeAt(0) === 0x2f) throw new UnsafeArchiveError(display(entry), `${what} is an absolute path`);
  // A PAX record can carry a NUL, which the kernel would read as the end.
  if (name.includes('\0')) throw new UnsafeArchiveError(display(entry), `${what} has a NUL byte`);
  // The common case — "usr/bin/ls", "etc/" — has no "." or "" component.
  if (!/(^|\/)\.{1,2}(\/|$)|\/\//.test(name)) {
    return name.charCodeAt(name.length - 1) === 0x2f ? name.slice(0, -1) : name;
  }
  const parts: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw new UnsafeArchiveError(display(entry), `${what} has a ".." component`);
    parts.push(c);
  }
  return parts.join('/');
}

/** Splits a normal path into its parent ('' for the root) and last component. */
export function splitPath(path: string): [parent: string, base: string] {
  const i = path.lastIndexOf('/');
  return i < 0 ? ['', path] : [path.slice(0, i), path.slice(i + 1)];
}
