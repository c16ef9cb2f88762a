// Netlink messages (netlink(7)): a 16-byte nlmsghdr {u32 len, u16 type,
// u16 flags, u32 seq, u32 pid}, then the payload, padded to 4 bytes. A reply
// may hold several messages back to back. Pure functions, no I/O.
import { NlWriter, align4, parseAttrs, readStr } from './attr.ts';
import { NLM_F, NLMSGERR_ATTR, NLMSG_HDRLEN } from './consts.ts';

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** The bytes after the header. */
  payload: Uint8Array;
}

/** Encodes one request; `body` writes the payload (a struct, then attributes). */
export function encodeMessage(type: number, flags: number, seq: number, body: (w: NlWriter) => void): Uint8Array {
  const w = new NlWriter();
  w.u32(0).u16(type).u16(flags).u32(seq).u32(0);
  body(w);
  w.pad();
  w.setU32(0, w.length);
  return w.finish();
}

/** Splits a datagram into its messages. */
export function decodeMessages(buf: Uint8Array): NlMessage[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = dv.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > buf.length) throw new RangeError(`malformed netlink message at ${off}: length ${len} in a ${buf.length}-byte datagram`);
    out.push({
      type: dv.getUint16(off + 4, true),
      flags: dv.getUint16(off + 6, true),
      seq: dv.getUint32(off + 8, true),
      pid: dv.getUint32(off + 12, true),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** What an NLMSG_ERROR says: 0 is an ACK. */
export interface NlError {
  /** The positive errno, 0 for success. */
  errno: number;
  /** The kernel's extended ACK text (NLMSGERR_ATTR_MSG), when it gave one. */
  text?: string;
}

/**
 * netlink(7): struct nlmsgerr {int error; struct nlmsghdr msg;} then, unless
 * NLM_F_CAPPED, the rest of the request; then, with NLM_F_ACK_TLVS, attributes.
 */
export function decodeError(m: NlMessage): NlError {
  const dv = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
  const errno = -dv.getInt32(0, true);
  if (!(m.flags & NLM_F.ACK_TLVS) || m.payload.length < 4 + NLMSG_HDRLEN) return { errno };
  const echoed = m.flags & NLM_F.CAPPED ? NLMSG_HDRLEN : dv.getUint32(4, true);
  const text = parseAttrs(m.payload, 4 + align4(echoed)).find((a) => a.type === NLMSGERR_ATTR.MSG);
  return text ? { errno, text: readStr(text.data) } : { errno };
}

/** The int an NLMSG_DONE carries (negative: the dump failed). */
export function doneStatus(m: NlMessage): number {
  if (m.payload.length < 4) return 0;
  return new DataView(m.payload.buffer, m.payload.byteOffset, 4).getInt32(0, true);
}
