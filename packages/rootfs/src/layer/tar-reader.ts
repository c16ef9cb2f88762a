// A streaming tar reader: bytes in, entries out, synchronously.
//
// push() takes chunks of any size and calls the sink as headers and data go
// by: entry(e), data(chunk)… (views into the pushed chunk, no copies), end().
// PAX extended headers ('x', global 'g') and GNU long names ('L', 'K') are
// folded into the entry they describe. Nothing is awaited per entry, which
// is what makes unpacking many small files fast.
import { UnsafeArchiveError, display } from './errors.ts';
import { BLOCK, decodeHeader, headerProblem, isZeroBlock, parsePax, parsePaxInt, parsePaxTime, type RawHeader } from './tar-header.ts';

export interface Timespec { sec: number; nsec: number }

export interface TarEntry {
  /** Byte offset of the entry's (first) header in the tar stream. */
  offset: number;
  /** Binary string (latin1), as the archive spells it. */
  name: string;
  linkname: string;
  /** The typeflag: '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo, … */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow (0 for header-only types). */
  size: number;
  mtime: Timespec;
  /** From PAX `atime`, else null. */
  atime: Timespec | null;
  devmajor: number;
  devminor: number;
  /** PAX `SCHILY.xattr.NAME=VALUE` records: [NAME, raw VALUE]. */
  xattrs: Array<[string, Buffer]>;
  /** For a GNU ('S') or PAX (GNU.sparse.*) sparse file: its real size (NaN when not given); else null. */
  sparse: number | null;
}

export interface TarSink {
  entry(e: TarEntry): void;
  data(chunk: Buffer): void;
  end(): void;
}

const NO_XATTRS: Array<[string, Buffer]> = [];

function padOf(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

const S_HEADER = 0;
const S_DATA = 1;
const S_META = 2;
const S_SKIP = 3;
const S_END = 4;

export class TarReader {
  #sink: TarSink;
  #maxMeta: number;
  #state = S_HEADER;
  /** Bytes consumed so far (the stream offset of the next byte). */
  #pos = 0;
  #hdr = Buffer.alloc(BLOCK);
  #hdrFill = 0;
  #remaining = 0;
  #pad = 0;
  #meta: Buffer = Buffer.alloc(0);
  #metaFill = 0;
  #metaType = '';
  #metaOffset = -1;
  #pax: Map<string, Buffer> | null = null;
  #globalPax: Map<string, Buffer> | null = null;
  #longName: string | null = null;
  #longLink: string | null = null;
  #inEntry = false;

  constructor(sink: TarSink, opts: { maxMeta: number }) {
    this.#sink = sink;
    this.#maxMeta = opts.maxMeta;
  }

  /** True once the end-of-archive block was read (the rest is ignored). */
  get ended(): boolean {
    return this.#state === S_END;
  }

  get position(): number {
    return this.#pos;
  }

  push(chunk: Buffer): void {
    let i = 0;
    const len = chunk.length;
    while (i < len) {
      switch (this.#state) {
        case S_HEADER: {
          if (this.#hdrFill === 0 && len - i >= BLOCK) {
            this.#header(chunk, i);
            i += BLOCK;
            this.#pos += BLOCK;
          } else {
            const n = Math.min(BLOCK - this.#hdrFill, len - i);
            chunk.copy(this.#hdr, this.#hdrFill, i, i + n);
            this.#hdrFill += n;
            i += n;
            this.#pos += n;
            if (this.#hdrFill === BLOCK) {
              this.#hdrFill = 0;
              this.#pos -= BLOCK; // #header reports the block's own offset
              this.#header(this.#hdr, 0);
              this.#pos += BLOCK;
            }
          }
          break;
        }
        case S_DATA: {
          const n = Math.min(this.#remaining, len - i);
          this.#sink.data(n === len && i === 0 ? chunk : chunk.subarray(i, i + n));
          i += n;
          this.#pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#endEntry();
          break;
        }
        case S_META: {
          const n = Math.min(this.#remaining, len - i);
          chunk.copy(this.#meta, this.#metaFill, i, i + n);
          this.#metaFill += n;
          i += n;
          this.#pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) {
            this.#metaDone();
            this.#state = this.#pad > 0 ? S_SKIP : S_HEADER;
            this.#remaining = this.#pad;
          }
          break;
        }
        case S_SKIP: {
          const n = Math.min(this.#remaining, len - i);
          i += n;
          this.#pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = S_HEADER;
          break;
        }
        default: // S_END: whatever follows the end-of-archive blocks is ignored
          this.#pos += len - i;
          i = len;
      }
    }
  }

  /** The input ended: it must end between entries. */
  finish(): void {
    if (this.#state === S_END) return;
    if (this.#state === S_HEADER && this.#hdrFill === 0 && this.#pax === null && this.#longName === null && this.#longLink === null) return;
    throw new UnsafeArchiveError(this.#inEntry ? display(this.#currentName) : `(header at byte ${this.#pos - this.#hdrFill})`, `the archive ends in the middle of ${this.#inEntry ? 'this entry' : 'a header'} (truncated)`);
  }

  #currentName = '';

  #header(b: Buffer, off: number): void {
    if (isZeroBlock(b, off)) {
      // End of archive (two zero blocks; GNU tar stops at the first one too).
      if (this.#pax !== null || this.#longName !== null || this.#longLink !== null) {
        throw new UnsafeArchiveError(`(header at byte ${this.#pos})`, 'the archive ends right after an extended header');
      }
      this.#state = S_END;
      return;
    }
    const problem = headerProblem(b, off);
    if (problem) throw new UnsafeArchiveError(`(header at byte ${this.#pos})`, problem);
    const h = decodeHeader(b, off);
    if (!(h.size >= 0)) throw new UnsafeArchiveError(display(h.name) || `(header at byte ${this.#pos})`, 'the size field is not a valid number');
    const tf = h.typeflag;
    if (tf === 'x' || tf === 'g' || tf === 'X' || tf === 'L' || tf === 'K') return this.#startMeta(h);

    const e: TarEntry = {
      offset: this.#metaOffset >= 0 ? this.#metaOffset : this.#pos,
      name: h.name, linkname: h.linkname, typeflag: tf, mode: h.mode, uid: h.uid, gid: h.gid, size: h.size,
      mtime: { sec: h.mtime, nsec: 0 }, atime: null,
      devmajor: Number.isNaN(h.devmajor) ? 0 : h.devmajor, devminor: Number.isNaN(h.devminor) ? 0 : h.devminor,
      xattrs: NO_XATTRS, sparse: tf === 'S' ? h.realsize : null,
    };
    if (this.#pax !== null || this.#globalPax !== null || this.#longName !== null || this.#longLink !== null) this.#extend(e);
    if (!Number.isSafeInteger(e.uid) || !Number.isSafeInteger(e.gid) || !Number.isSafeInteger(e.mtime.sec) || !(e.mode >= 0)) {
      throw new UnsafeArchiveError(display(e.name), 'a numeric field (mode, uid, gid or mtime) of its header is not a valid number');
    }
    // Types that never have data blocks, whatever their size field says (as
    // Go's archive/tar reads them: most image layers are written by it).
    if (tf >= '1' && tf <= '6' && tf.length === 1) e.size = 0;
    this.#currentName = e.name;
    this.#inEntry = true;
    this.#remaining = e.size;
    this.#pad = padOf(e.size);
    this.#sink.entry(e);
    if (e.size === 0) this.#endEntry();
    else this.#state = S_DATA;
  }

  #startMeta(h: RawHeader): void {
    if (h.size > this.#maxMeta) {
      throw new UnsafeArchiveError(`(header at byte ${this.#pos})`, `an extended header of ${h.size} bytes (more than ${this.#maxMeta})`);
    }
    if (this.#metaOffset < 0) this.#metaOffset = this.#pos;
    this.#metaType = h.typeflag;
    this.#meta = Buffer.allocUnsafe(h.size);
    this.#metaFill = 0;
    this.#remaining = h.size;
    this.#pad = padOf(h.size);
    if (h.size === 0) this.#metaDone();
    this.#state = h.size === 0 ? S_HEADER : S_META;
  }

  /** Folds GNU long names and PAX records (global, then this entry's) into `e`. */
  #extend(e: TarEntry): void {
    const pax = this.#pax;
    const gpax = this.#globalPax;
    if (this.#longName !== null) e.name = this.#longName;
    if (this.#longLink !== null) e.linkname = this.#longLink;
    this.#pax = null;
    this.#longName = null;
    this.#longLink = null;
    this.#metaOffset = -1;
    if (pax === null && gpax === null) return;
    const get = (k: string): Buffer | undefined => pax?.get(k) ?? gpax?.get(k);
    // Only a per-entry header may rename the entry or give its size.
    const p = pax?.get('path');
    if (p !== undefined) e.name = p.toString('latin1', 0, p.length);
    const l = pax?.get('linkpath');
    if (l !== undefined) e.linkname = l.toString('latin1', 0, l.length);
    const bad = (key: string) => new UnsafeArchiveError(display(e.name), `its PAX record ${key} is not a valid number`);
    const s = pax?.get('size');
    if (s !== undefined) { e.size = parsePaxInt(s); if (Number.isNaN(e.size)) throw bad('size'); }
    const u = get('uid');
    if (u !== undefined && u.length > 0) { e.uid = parsePaxInt(u); if (Number.isNaN(e.uid)) throw bad('uid'); }
    const g = get('gid');
    if (g !== undefined && g.length > 0) { e.gid = parsePaxInt(g); if (Number.isNaN(e.gid)) throw bad('gid'); }
    const m = get('mtime');
    if (m !== undefined && m.length > 0) { const t = parsePaxTime(m); if (t === null) throw bad('mtime'); e.mtime = t; }
    const a = get('atime');
    if (a !== undefined && a.length > 0) e.atime = parsePaxTime(a);
    const xattrs: Array<[string, Buffer]> = [];
    for (const map of [gpax, pax]) {
      if (map === null) continue;
      for (const [k, v] of map) {
        if (k.startsWith('SCHILY.xattr.')) {
          const xn = k.slice(13);
          const at = xattrs.findIndex(([n]) => n === xn);
          if (at >= 0) xattrs.splice(at, 1);
          // In a global header an empty value unsets the keyword.
          if (v.length > 0 || map === pax) xattrs.push([xn, v]);
        } else if (k.startsWith('GNU.sparse.') && map === pax) {
          const rs = pax.get('GNU.sparse.realsize') ?? pax.get('GNU.sparse.size');
          e.sparse = rs === undefined ? NaN : parsePaxInt(rs);
          // GNU sparse 1.0 hides the real name ("./GNUSparseFile.PID/NAME").
          const real = pax.get('GNU.sparse.name');
          if (real !== undefined) e.name = real.toString('latin1', 0, real.length);
        }
      }
    }
    if (xattrs.length > 0) e.xattrs = xattrs;
  }

  #endEntry(): void {
    this.#inEntry = false;
    this.#sink.end();
    this.#remaining = this.#pad;
    this.#state = this.#pad > 0 ? S_SKIP : S_HEADER;
  }

  #metaDone(): void {
    const buf = this.#meta.subarray(0, this.#metaFill);
    this.#meta = Buffer.alloc(0);
    switch (this.#metaType) {
      case 'L': case 'K': {
        const nul = buf.indexOf(0);
        const s = buf.toString('latin1', 0, nul < 0 ? buf.length : nul);
        if (this.#metaType === 'L') this.#longName = s;
        else this.#longLink = s;
        return;
      }
      default: {
        let map: Map<string, Buffer>;
        try {
          map = parsePax(buf);
        } catch (err) {
          throw new UnsafeArchiveError(`(header at byte ${this.#metaOffset})`, (err as Error).message, { cause: err });
        }
        if (this.#metaType === 'g') {
          // pax(1): a global header's values hold for every entry after it.
          this.#globalPax = new Map([...(this.#globalPax ?? []), ...map]);
          this.#metaOffset = -1;
        } else {
          this.#pax = this.#pax === null ? map : new Map([...this.#pax, ...map]);
        }
      }
    }
  }
}
