// Netlink attributes (netlink(7), rtnetlink(7)): a 4-byte header
// {u16 len, u16 type}, the payload, padding to 4 bytes. Nested attributes are
// attributes whose payload is more attributes. Pure functions, no I/O.
import { NLA_HDRLEN, NLA_TYPE_MASK } from './consts.ts';

export const align4 = (n: number): number => (n + 3) & ~3;

/** A growable little-endian byte writer for one netlink message. */
export class NlWriter {
  #buf = new Uint8Array(256);
  #dv = new DataView(this.#buf.buffer);
  #len = 0;

  get length(): number {
    return this.#len;
  }

  #grow(extra: number): void {
    if (this.#len + extra <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + extra) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.#buf.subarray(0, this.#len));
    this.#buf = b;
    this.#dv = new DataView(b.buffer);
  }

  u8(v: number): this { this.#grow(1); this.#dv.setUint8(this.#len, v); this.#len += 1; return this; }
  u16(v: number): this { this.#grow(2); this.#dv.setUint16(this.#len, v, true); this.#len += 2; return this; }
  u32(v: number): this { this.#grow(4); this.#dv.setUint32(this.#len, v >>> 0, true); this.#len += 4; return this; }
  i32(v: number): this { this.#grow(4); this.#dv.setInt32(this.#len, v, true); this.#len += 4; return this; }
  bytes(b: Uint8Array): this { this.#grow(b.length); this.#buf.set(b, this.#len); this.#len += b.length; return this; }
  pad(): this { const n = align4(this.#len) - this.#len; this.#grow(n); this.#buf.fill(0, this.#len, this.#len + n); this.#len += n; return this; }

  /** Overwrites a u32 written earlier (a length known only at the end). */
  setU32(at: number, v: number): void { this.#dv.setUint32(at, v, true); }
  setU16(at: number, v: number): void { this.#dv.setUint16(at, v, true); }

  attr(type: number, payload: Uint8Array): this {
    this.u16(NLA_HDRLEN + payload.length).u16(type).bytes(payload);
    return this.pad();
  }
  attrU8(type: number, v: number): this { return this.attr(type, Uint8Array.of(v)); }
  attrU32(type: number, v: number): this { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); return this.attr(type, b); }
  attrI32(type: number, v: number): this { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, v, true); return this.attr(type, b); }
  /** A NUL-terminated string (NLA_STRING / NLA_NUL_STRING). */
  attrStr(type: number, s: string): this { const e = new TextEncoder().encode(s); const b = new Uint8Array(e.length + 1); b.set(e); return this.attr(type, b); }
  attrFlag(type: number): this { return this.attr(type, new Uint8Array(0)); }

  /** An attribute whose payload `inner` writes (its length patched after). */
  nest(type: number, inner: (w: this) => void): this {
    const start = this.#len;
    this.u16(0).u16(type);
    inner(this);
    this.pad();
    this.setU16(start, this.#len - start);
    return this;
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** One attribute as read: its type (flag bits cleared) and payload. */
export interface Attr {
  type: number;
  data: Uint8Array;
}

/** Attributes in `buf[start, end)`, in order. Stops at a malformed header. */
export function parseAttrs(buf: Uint8Array, start = 0, end = buf.length): Attr[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Attr[] = [];
  let off = start;
  while (off + NLA_HDRLEN <= end) {
    const len = dv.getUint16(off, true);
    if (len < NLA_HDRLEN || off + len > end) break;
    out.push({ type: dv.getUint16(off + 2, true) & NLA_TYPE_MASK, data: buf.subarray(off + NLA_HDRLEN, off + len) });
    off += align4(len);
  }
  return out;
}

/** Attributes by type (the last of a repeated type wins). */
export function attrMap(buf: Uint8Array, start = 0, end = buf.length): Map<number, Uint8Array> {
  return new Map(parseAttrs(buf, start, end).map((a) => [a.type, a.data]));
}

export const readU32 = (d: Uint8Array): number => new DataView(d.buffer, d.byteOffset, d.byteLength).getUint32(0, true);
export const readI32 = (d: Uint8Array): number => new DataView(d.buffer, d.byteOffset, d.byteLength).getInt32(0, true);
export const readU8 = (d: Uint8Array): number => d[0] ?? 0;
/** A string attribute, up to its first NUL. */
export function readStr(d: Uint8Array): string {
  const end = d.indexOf(0);
  return new TextDecoder().decode(end < 0 ? d : d.subarray(0, end));
}
