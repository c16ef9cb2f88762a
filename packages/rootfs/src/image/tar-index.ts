// Where each member of an uncompressed tar archive is, found by reading only
// its headers (POSIX ustar, pax 'x' records, GNU long names), so a member —
// a layer inside `docker save` output — can be streamed straight from the
// file at its offset, in any order, without copying it out first.
// The member's bytes are then read and checked by whoever opens them.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { posix } from 'node:path';
import { ImageFormatError } from './errors.ts';

export interface TarMember {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  /** Where the data starts in the archive. */
  offset: number;
  size: number;
  linkname: string;
}

const BLOCK = 512;
/** Past this many members the archive is not an image archive we index. */
const MAX_MEMBERS = 1_000_000;

function text(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end >= 0 && end < start + len ? end : start + len);
}

/** An octal number field, or GNU's base-256 form (high bit of the first byte set) for sizes ≥ 8 GiB. */
function number(b: Buffer, start: number, len: number): number {
  if (b[start]! & 0x80) {
    let n = 0;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + b[i]!;
    return n;
  }
  const s = text(b, start, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/** tar(5): the checksum is the sum of the header's bytes with the checksum field read as spaces. */
function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === number(h, 148, 8);
}

/** pax(1) extended header records: "LEN key=value\n". */
function paxRecords(b: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < b.length) {
    const sp = b.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(b.toString('ascii', i, sp), 10);
    if (!(len > 0)) break;
    const rec = b.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/** "./a/b/" → "a/b". */
export function memberName(name: string): string {
  const n = posix.normalize(name.replace(/^(\.\/)+/, '')).replace(/\/+$/, '');
  return n === '.' ? '' : n;
}

/**
 * The members of the tar archive at `path`, by normalized name (a later
 * member of the same name replaces an earlier one, as extraction would).
 * Returns null when the first block is not a tar header (the file is
 * compressed, or not a tar at all).
 */
export function indexTar(path: string): Map<string, TarMember> | null {
  const fd = openSync(path, 'r');
  try {
    const members = new Map<string, TarMember>();
    const fileSize = fstatSync(fd).size;
    const h = Buffer.alloc(BLOCK);
    let pos = 0;
    let pax = new Map<string, string>();
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const n = readSync(fd, h, 0, BLOCK, pos);
      if (n < BLOCK && pos === 0) return null; // shorter than one header
      if (n < BLOCK || h.every((x) => x === 0)) break; // end of archive (two zero blocks; one is enough to stop)
      if (!checksumOk(h)) {
        if (pos === 0) return null;
        throw new ImageFormatError(path, `bad tar header checksum at offset ${pos}: the archive is truncated or corrupt`);
      }
      const flag = String.fromCharCode(h[156]!);
      const size = number(h, 124, 12);
      const data = pos + BLOCK;
      pos = data + Math.ceil(size / BLOCK) * BLOCK;
      if (flag === 'x' || flag === 'L' || flag === 'K') {
        const b = Buffer.alloc(size);
        readSync(fd, b, 0, size, data);
        if (flag === 'x') pax = paxRecords(b);
        else if (flag === 'L') longName = text(b, 0, size);
        else longLink = text(b, 0, size);
        continue;
      }
      if (flag === 'g') continue; // global pax header: nothing we read
      // POSIX ustar ("ustar\0") has a name prefix field; GNU's "ustar  " does not.
      const prefix = h.toString('ascii', 257, 262) === 'ustar' && h[262] === 0 ? text(h, 345, 155) : '';
      const rawName = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100));
      const linkname = pax.get('linkpath') ?? longLink ?? text(h, 157, 100);
      const realSize = pax.has('size') ? Number(pax.get('size')) : size;
      if (pax.has('size')) pos = data + Math.ceil(realSize / BLOCK) * BLOCK;
      pax = new Map();
      longName = longLink = undefined;
      const type = flag === '0' || flag === '\0' || flag === '7' ? 'file' : flag === '5' ? 'directory' : flag === '2' ? 'symlink' : flag === '1' ? 'link' : 'other';
      if (data + realSize > fileSize) throw new ImageFormatError(path, `member ${rawName} ends past the end of the file: the archive is truncated`);
      const name = memberName(rawName);
      members.set(name, { name, type, offset: data, size: type === 'file' ? realSize : 0, linkname });
      if (members.size > MAX_MEMBERS) throw new ImageFormatError(path, `more than ${MAX_MEMBERS} members`);
    }
    return members;
  } finally {
    closeSync(fd);
  }
}
