// IPv4 and IPv6 addresses as the kernel stores them: 4 or 16 bytes in
// network order. Parsing and printing only; no I/O.
import { ValidationError } from '@nsk/syscall';
import { isIP } from 'node:net';

export const AF_INET = 2;
export const AF_INET6 = 10;

/** An address prefix: `10.88.0.0/16`, `fd00::1/64`. */
export interface Cidr {
  /** The address as written (for an interface address, the host part stays). */
  address: string;
  prefix: number;
  family: typeof AF_INET | typeof AF_INET6;
}

/** `'10.0.0.1'` → 4 bytes, `'fd00::1'` → 16 bytes. Throws ValidationError otherwise. */
export function ipBytes(ip: string, field = 'address'): Uint8Array {
  const kind = isIP(ip);
  if (kind === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (kind !== 6) throw new ValidationError(field, `not an IPv4 or IPv6 address: ${JSON.stringify(ip)}`);
  let text = ip;
  const out = new Uint8Array(16);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipBytes(v4[1]!);
    text = `${text.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  all.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff; });
  return out;
}

/** 4 bytes → dotted quad; 16 bytes → RFC 5952 text (longest zero run as `::`). */
export function ipString(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length !== 16) throw new RangeError(`an address has 4 or 16 bytes, not ${b.length}`);
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export function familyOf(ip: string, field = 'address'): typeof AF_INET | typeof AF_INET6 {
  const kind = isIP(ip);
  if (kind === 0) throw new ValidationError(field, `not an IPv4 or IPv6 address: ${JSON.stringify(ip)}`);
  return kind === 4 ? AF_INET : AF_INET6;
}

/** `'10.88.0.2/16'` → {address, prefix, family}. */
export function parseCidr(text: string, field = 'address'): Cidr {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) throw new ValidationError(field, `not address/prefix: ${JSON.stringify(text)}`);
  const family = familyOf(m[1]!, field);
  const prefix = Number(m[2]);
  if (prefix > (family === AF_INET ? 32 : 128)) throw new ValidationError(field, `prefix /${prefix} is too long for ${m[1]}`);
  return { address: m[1]!, prefix, family };
}

/** The address with the host bits cleared. */
export function networkOf(c: Cidr): Uint8Array {
  const b = ipBytes(c.address);
  for (let bit = c.prefix; bit < b.length * 8; bit++) b[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return b;
}

/** True when `ip` lies inside `c`. */
export function cidrContains(c: Cidr, ip: string): boolean {
  const a = ipBytes(ip);
  const n = networkOf(c);
  if (a.length !== n.length) return false;
  return ipString(networkOf({ address: ip, prefix: c.prefix, family: c.family })) === ipString(n);
}

/** The `n`th address of the network of `c` (0 is the network address itself). */
export function nthAddress(c: Cidr, n: bigint): string {
  const b = networkOf(c);
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  v += n;
  for (let i = b.length - 1; i >= 0; i--) { b[i] = Number(v & 0xffn); v >>= 8n; }
  return ipString(b);
}

/** How far `ip` is from the network address of `c`. */
export function offsetOf(c: Cidr, ip: string): bigint {
  const toBig = (b: Uint8Array) => b.reduce((v, x) => (v << 8n) | BigInt(x), 0n);
  return toBig(ipBytes(ip)) - toBig(networkOf(c));
}

/** `'02:42:ac:11:00:02'` → 6 bytes. */
export function macBytes(mac: string, field = 'hardwareAddr'): Uint8Array {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw new ValidationError(field, `not a MAC address: ${JSON.stringify(mac)}`);
  return Uint8Array.from(mac.split(':').map((x) => parseInt(x, 16)));
}

export function macString(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}
