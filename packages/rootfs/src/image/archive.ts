// One way to read an image archive whether it is a directory (an OCI
// layout) or a tar file (`docker save`, an OCI layout in a tar): members by
// name, small ones read whole, large ones streamed.
import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { ImageFormatError } from './errors.ts';
import { indexTar, memberName, type TarMember } from './tar-index.ts';

export interface Archive {
  readonly path: string;
  readonly kind: 'directory' | 'tar';
  has(name: string): boolean;
  size(name: string): number;
  /** A member read whole: JSON files (at most 64 MiB). */
  read(name: string): Buffer;
  open(name: string): NodeJS.ReadableStream;
  /** Top-level member names. */
  top(): string[];
}

const MAX_READ = 64 << 20;

/**
 * A member name from a manifest, checked: relative, no "..". A manifest is
 * data from outside; it must not name /etc/shadow or ../../anything.
 */
function safe(archive: string, name: string): string {
  if (typeof name !== 'string' || name.startsWith('/') || name.includes('\0')) throw new ImageFormatError(archive, `refusing member name ${JSON.stringify(name)}: not a relative path`);
  const n = memberName(name);
  if (n === '' || n === '..' || n.startsWith('../')) throw new ImageFormatError(archive, `refusing member name ${JSON.stringify(name)}: it leaves the archive`);
  return n;
}

export function dirArchive(path: string): Archive {
  const root = realpathSync(path);
  const file = (name: string): string => {
    const p = join(root, safe(path, name));
    // Symlinks inside the layout must stay inside it too.
    if (existsSync(p) && !`${realpathSync(p)}/`.startsWith(`${root}/`)) throw new ImageFormatError(path, `${name} is a link out of the layout`);
    return p;
  };
  const missing = (name: string) => new ImageFormatError(path, `has no ${name}`);
  return {
    path, kind: 'directory',
    has: (name) => existsSync(file(name)) && statSync(file(name)).isFile(),
    size: (name) => { if (!existsSync(file(name))) throw missing(name); return statSync(file(name)).size; },
    read: (name) => {
      const p = file(name);
      if (!existsSync(p)) throw missing(name);
      if (statSync(p).size > MAX_READ) throw new ImageFormatError(path, `${name} is larger than ${MAX_READ} bytes`);
      return readFileSync(p);
    },
    open: (name) => { const p = file(name); if (!existsSync(p)) throw missing(name); return createReadStream(p); },
    top: () => readdirSync(root),
  };
}

export function tarArchive(path: string, members: Map<string, TarMember>): Archive {
  /** A member, its symlinks followed inside the archive (old `docker save` links repeated layer.tar files). */
  const member = (name: string): TarMember => {
    let n = safe(path, name);
    for (let i = 0; i < 40; i++) {
      const m = members.get(n);
      if (!m) throw new ImageFormatError(path, `has no ${name}`);
      if (m.type === 'file') return m;
      if (m.type !== 'symlink' && m.type !== 'link') throw new ImageFormatError(path, `${name} is not a file`);
      n = safe(path, m.type === 'link' ? m.linkname : posix.join(posix.dirname(n), m.linkname));
    }
    throw new ImageFormatError(path, `${name}: too many links`);
  };
  return {
    path, kind: 'tar',
    has: (name) => { try { member(name); return true; } catch { return false; } },
    size: (name) => member(name).size,
    read: (name) => {
      const m = member(name);
      if (m.size > MAX_READ) throw new ImageFormatError(path, `${name} is larger than ${MAX_READ} bytes`);
      const b = Buffer.alloc(m.size);
      const fd = openSync(path, 'r');
      try { readSync(fd, b, 0, m.size, m.offset); } finally { closeSync(fd); }
      return b;
    },
    open: (name) => {
      const m = member(name);
      // createReadStream's `end` is inclusive: it cannot express zero bytes.
      return m.size === 0 ? Readable.from([]) : createReadStream(path, { start: m.offset, end: m.offset + m.size - 1 });
    },
    top: () => [...new Set([...members.keys()].map((n) => n.split('/')[0]!).filter(Boolean))],
  };
}

/** The archive at `path`: a directory, or an uncompressed tar; null for anything else (a compressed file). */
export function openArchive(path: string): Archive | null {
  if (statSync(path).isDirectory()) return dirArchive(path);
  const members = indexTar(path);
  return members ? tarArchive(path, members) : null;
}
