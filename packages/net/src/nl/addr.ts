// struct ifaddrmsg {u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index}
// and the IFA_* attributes of RTM_{NEW,DEL,GET}ADDR (rtnetlink(7)).
import { NlWriter, attrMap, readStr, readU32 } from './attr.ts';
import { IFA, IFADDRMSG_LEN, RT_SCOPE } from './consts.ts';
import { AF_INET, ipBytes, ipString, type Cidr } from '../ip.ts';

/** An interface address (`ip -json addr show`'s addr_info). */
export interface Addr {
  /** The link's index. */
  index: number;
  family: number;
  /** The address itself (IFA_LOCAL, or IFA_ADDRESS when there is no local). */
  address: string;
  prefix: number;
  /** RT_SCOPE_*: 0 global, 253 link, 254 host. */
  scope: number;
  /** IFA_F_* (IFA_FLAGS when present: it holds the bits past 8). */
  flags: number;
  label: string | null;
  /** The other end of a point-to-point address (IFA_ADDRESS ≠ IFA_LOCAL). */
  peer: string | null;
  broadcast: string | null;
}

export interface AddrOptions {
  /** IFA_F_* flags, e.g. IFA_F.NODAD to skip IPv6 duplicate address detection. */
  flags?: number;
  /** IPv4 broadcast address; `'+'` for the network's last address (`ip addr add … brd +`). */
  broadcast?: string;
  scope?: number;
  label?: string;
}

/** The body of RTM_NEWADDR / RTM_DELADDR for `cidr` on link `index`. */
export function writeAddr(w: NlWriter, index: number, cidr: Cidr, o: AddrOptions = {}): void {
  const flags = o.flags ?? 0;
  w.u8(cidr.family).u8(cidr.prefix).u8(flags & 0xff).u8(o.scope ?? RT_SCOPE.UNIVERSE).u32(index);
  const local = ipBytes(cidr.address);
  // iproute2 sends both: IFA_LOCAL is the address, IFA_ADDRESS the same
  // unless point-to-point.
  w.attr(IFA.LOCAL, local);
  w.attr(IFA.ADDRESS, local);
  if (flags > 0xff) w.attrU32(IFA.FLAGS, flags);
  if (o.broadcast !== undefined && cidr.family === AF_INET) {
    if (o.broadcast === '+') {
      const b = ipBytes(cidr.address);
      for (let bit = cidr.prefix; bit < 32; bit++) b[bit >> 3]! |= 0x80 >> (bit & 7);
      w.attr(IFA.BROADCAST, b);
    } else w.attr(IFA.BROADCAST, ipBytes(o.broadcast));
  }
  if (o.label !== undefined) w.attrStr(IFA.LABEL, o.label);
}

export function writeAddrFilter(w: NlWriter, family = 0, index = 0): void {
  w.u8(family).u8(0).u8(0).u8(0).u32(index);
}

export function decodeAddr(payload: Uint8Array): Addr {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const a = attrMap(payload, IFADDRMSG_LEN);
  const local = a.get(IFA.LOCAL);
  const address = a.get(IFA.ADDRESS);
  const main = local ?? address;
  const flagsAttr = a.get(IFA.FLAGS);
  const brd = a.get(IFA.BROADCAST);
  const label = a.get(IFA.LABEL);
  return {
    index: dv.getUint32(4, true),
    family: dv.getUint8(0),
    address: main ? ipString(main) : '',
    prefix: dv.getUint8(1),
    scope: dv.getUint8(3),
    flags: flagsAttr ? readU32(flagsAttr) : dv.getUint8(2),
    label: label ? readStr(label) : null,
    peer: local && address && ipString(local) !== ipString(address) ? ipString(address) : null,
    broadcast: brd ? ipString(brd) : null,
  };
}
