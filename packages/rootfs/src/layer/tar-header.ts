// The tar format, decoded: the 512-byte header (POSIX ustar, GNU, v7) and
// PAX extended records. Pure functions over bytes, no I/O.
//
// Names and link targets are returned as binary strings (latin1: one char
// per byte) so that names that are not UTF-8 reach the kernel unchanged.

export const BLOCK = 512;

/** The fields of one header block, numbers decoded. */
export interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (may be negative). */
  mtime: number;
  /** The typeflag byte as a character ('0', '5', 'x', …; '\0' is a regular file). */
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
  format: 'ustar' | 'gnu' | 'v7';
  /** GNU sparse ('S') headers: the file's real (expanded) size. */
  realsize: number;
}

/** A header block of zeros marks the end of the archive. */
export function isZeroBlock(b: Uint8Array, off: number): boolean {
  for (let i = off, end = off + BLOCK; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * A numeric field: octal digits (leading spaces or NULs allowed, ended by a
 * space or NUL), or GNU base-256 when the first byte has its high bit set
 * (0x80 positive, 0xff negative two's complement). NaN when malformed or
 * beyond 2^53.
 */
export function parseNumber(b: Uint8Array, off: number, len: number): number {
  const end = off + len;
  const first = b[off]!;
  if (first & 0x80) {
    let v = 0;
    if (first === 0xff) {
      // Negative, two's complement: -(complement + 1).
      for (let i = off; i < end; i++) v = v * 256 + (255 - b[i]!);
      v = -(v + 1);
    } else {
      v = first & 0x7f;
      for (let i = off + 1; i < end; i++) v = v * 256 + b[i]!;
    }
    return Number.isSafeInteger(v) ? v : NaN;
  }
  let i = off;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) return NaN;
    v = v * 8 + (c - 0x30);
  }
  for (; i < end; i++) if (b[i] !== 0x20 && b[i] !== 0) return NaN;
  return Number.isSafeInteger(v) ? v : NaN;
}

function cstring(b: Buffer, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && b[end] !== 0) end++;
  return b.toString('latin1', off, end);
}

/**
 * The header checksum is the sum of the block's bytes with the checksum
 * field read as eight spaces; some old tars summed signed bytes.
 */
function checksumOk(b: Uint8Array, off: number): boolean {
  const stored = parseNumber(b, off + 148, 8);
  let sum = 8 * 0x20;
  for (let i = off, end = off + 148; i < end; i++) sum += b[i]!;
  for (let i = off + 156, end = off + BLOCK; i < end; i++) sum += b[i]!;
  if (stored === sum) return true;
  let signed = 8 * 0x20;
  for (let i = off; i < off + BLOCK; i++) {
    if (i >= off + 148 && i < off + 156) continue;
    const c = b[i]!;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === signed;
}

/** Why a header block is not a tar header, or null when it is one. */
export function headerProblem(b: Uint8Array, off: number): string | null {
  if (!checksumOk(b, off)) return 'not a tar header (checksum mismatch): a corrupt, truncated or still compressed archive';
  return null;
}

// "ustar\0" then "00": POSIX; "ustar " then " \0": GNU.
function isMagic(b: Uint8Array, off: number, last: number): boolean {
  return b[off + 257] === 0x75 && b[off + 258] === 0x73 && b[off + 259] === 0x74 && b[off + 260] === 0x61 && b[off + 261] === 0x72 && b[off + 262] === last;
}

/**
 * Decodes the header block at `b[off..off+512]`. The caller has checked
 * `headerProblem` first. Numbers that do not parse come back as NaN.
 */
export function decodeHeader(b: Buffer, off: number): RawHeader {
  const format = isMagic(b, off, 0) ? 'ustar' : isMagic(b, off, 0x20) && b[off + 263] === 0x20 && b[off + 264] === 0 ? 'gnu' : 'v7';
  let name = cstring(b, off, 100);
  // POSIX ustar: a name longer than 100 bytes is split at a '/' into prefix
  // (155 bytes at offset 345) and name. GNU keeps other fields there.
  if (format === 'ustar' && b[off + 345] !== 0) name = `${cstring(b, off + 345, 155)}/${name}`;
  const tf = b[off + 156]!;
  let typeflag = tf === 0 ? '0' : String.fromCharCode(tf);
  // v7 tar marked directories only by a trailing slash.
  if (typeflag === '0' && name.endsWith('/')) typeflag = '5';
  return {
    name,
    mode: parseNumber(b, off + 100, 8),
    uid: parseNumber(b, off + 108, 8),
    gid: parseNumber(b, off + 116, 8),
    size: parseNumber(b, off + 124, 12),
    mtime: parseNumber(b, off + 136, 12),
    typeflag,
    linkname: cstring(b, off + 157, 100),
    devmajor: format === 'v7' ? 0 : parseNumber(b, off + 329, 8),
    devminor: format === 'v7' ? 0 : parseNumber(b, off + 337, 8),
    format,
    realsize: typeflag === 'S' ? parseNumber(b, off + 483, 12) : 0,
  };
}

/**
 * PAX extended header records (pax(1) "extended header"): `"%d %s=%s\n"`,
 * the decimal being the record's whole length in bytes. Keys are returned as
 * binary strings, values as raw bytes (xattr values are binary).
 * Throws an Error naming the problem when a record is malformed.
 */
export function parsePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0) break; // padding some writers leave
    const sp = buf.indexOf(0x20, pos);
    if (sp < 0 || sp - pos > 20) throw new Error(`malformed PAX record at offset ${pos}: no length`);
    const lenText = buf.toString('latin1', pos, sp);
    if (!/^[0-9]+$/.test(lenText)) throw new Error(`malformed PAX record at offset ${pos}: length ${JSON.stringify(lenText)}`);
    const len = Number(lenText);
    const end = pos + len;
    if (end > buf.length || end <= sp + 1 || buf[end - 1] !== 0x0a) throw new Error(`malformed PAX record at offset ${pos}: bad length ${len}`);
    const eq = buf.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= end - 1 || eq === sp + 1) throw new Error(`malformed PAX record at offset ${pos}: no key=value`);
    out.set(buf.toString('latin1', sp + 1, eq), buf.subarray(eq + 1, end - 1));
    pos = end;
  }
  return out;
}

/** A PAX decimal (`"1700000000.5"`, `"-3"`) as seconds + nanoseconds; null when malformed. */
export function parsePaxTime(v: Buffer): { sec: number; nsec: number } | null {
  const m = /^(-?)([0-9]+)(?:\.([0-9]*))?$/.exec(v.toString('latin1', 0, v.length));
  if (!m) return null;
  let sec = Number(m[2]);
  let nsec = m[3] ? Number((m[3] + '000000000').slice(0, 9)) : 0;
  if (!Number.isSafeInteger(sec)) return null;
  if (m[1] === '-') {
    // -1.25 s is sec -2, nsec 750000000 (timespec keeps nsec non-negative).
    sec = -sec;
    if (nsec > 0) { sec -= 1; nsec = 1e9 - nsec; }
  }
  return { sec, nsec };
}

/** A PAX non-negative decimal integer; NaN when malformed. */
export function parsePaxInt(v: Buffer): number {
  const s = v.toString('latin1', 0, v.length);
  if (!/^[0-9]{1,16}$/.test(s)) return NaN;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : NaN;
}
