// A container path resolved on the host, inside the rootfs: symlinks are
// followed as the container would see them (an absolute link is relative to
// the rootfs; `..` stops at it), so a mount destination in a hostile rootfs
// can never land outside it (path_resolution(7): at most 40 links).
import { lstatSync, readlinkSync } from 'node:fs';
import { ValidationError } from '@nsk/syscall';

export interface Resolved {
  /** The container path with every symlink followed. */
  path: string;
  /** What is there now: null when it is missing. */
  kind: 'directory' | 'file' | 'other' | null;
}

export function resolveInRoot(root: string, path: string, field: string): Resolved {
  const rest = path.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (rest.length) {
    const part = rest.shift()!;
    if (part === '.') continue;
    if (part === '..') { done.pop(); continue; }
    const host = `${root}/${[...done, part].join('/')}`;
    let st;
    try { st = lstatSync(host); } catch { done.push(part, ...rest.filter((p) => p !== '.')); return { path: `/${normalizeParts(done).join('/')}`, kind: null }; }
    if (!st.isSymbolicLink()) { done.push(part); continue; }
    if (++links > 40) throw new ValidationError(field, `too many levels of symbolic links in ${path}`);
    const target = readlinkSync(host);
    if (target.startsWith('/')) done.length = 0;
    rest.unshift(...target.split('/').filter(Boolean));
  }
  const final = `/${done.join('/')}`;
  const st = lstatSync(`${root}${final === '/' ? '' : final}`);
  return { path: final, kind: st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other' };
}

function normalizeParts(parts: string[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else if (p !== '.') out.push(p);
  }
  return out;
}
