// struct ifinfomsg {u8 family, u8 pad, u16 type, i32 index, u32 flags,
// u32 change} and the IFLA_* attributes of RTM_{NEW,DEL,GET,SET}LINK
// (rtnetlink(7)). Pure functions, no I/O.
import { NlWriter, attrMap, readStr, readU32, readU8 } from './attr.ts';
import { ARPHRD, IFF, IFINFOMSG_LEN, IFLA, IFLA_INFO, OPERSTATES, VETH_INFO_PEER, type OperState } from './consts.ts';
import { macBytes, macString } from '../ip.ts';

/** A link as a dump reports it (`ip -json link show`). */
export interface Link {
  index: number;
  name: string;
  /** IFLA_INFO_KIND: `'veth'`, `'bridge'`; null for lo and real devices. */
  kind: string | null;
  /** The hardware type: `'ether'`, `'loopback'`, or `arphrd:<n>`. */
  linkType: string;
  /** net_device_flags (IFF_*). */
  flags: number;
  /** IFF_UP: administratively up. */
  up: boolean;
  mtu: number;
  /** `'aa:bb:cc:dd:ee:ff'`, null when the link has none. */
  hardwareAddr: string | null;
  /** The bridge it is a port of (IFLA_MASTER), else null. */
  masterIndex: number | null;
  /** IFLA_LINK: for a veth, its peer's index (in the peer's namespace). */
  parentIndex: number | null;
  /** IFLA_LINK_NETNSID: the peer's namespace id as this namespace knows it. */
  linkNetnsId: number | null;
  operState: OperState;
  txQueueLen: number | null;
}

/** Where a link goes: an open namespace fd (`/proc/PID/ns/net`) or a process's namespace. */
export type NetnsTarget = { fd: number } | { pid: number };

/** What `linkAdd` creates. */
export type LinkSpec =
  | (LinkCommon & { kind: 'veth'; peer: VethPeer })
  | (LinkCommon & { kind: 'bridge' })
  | (LinkCommon & { kind: 'dummy' });

export interface LinkCommon {
  name: string;
  mtu?: number;
  hardwareAddr?: string;
  /** Index of the bridge to enslave it to. */
  masterIndex?: number;
  /** Create it up (IFF_UP). */
  up?: boolean;
  /** Create it in another network namespace. */
  netns?: NetnsTarget;
}

export interface VethPeer {
  name: string;
  mtu?: number;
  hardwareAddr?: string;
  /** Born in another namespace: `ip link add a type veth peer name b netns X`. */
  netns?: NetnsTarget;
}

/** Changes to an existing link (RTM_NEWLINK on its index, as `ip link set` sends). */
export interface LinkChange {
  up?: boolean;
  name?: string;
  mtu?: number;
  hardwareAddr?: string;
  /** The bridge to join; 0 leaves its bridge (`nomaster`). */
  masterIndex?: number;
  netns?: NetnsTarget;
}

export function writeIfinfomsg(w: NlWriter, index = 0, flags = 0, change = 0, family = 0): void {
  w.u8(family).u8(0).u16(0).i32(index).u32(flags).u32(change);
}

function writeNetns(w: NlWriter, t: NetnsTarget | undefined): void {
  if (!t) return;
  if ('fd' in t) w.attrU32(IFLA.NET_NS_FD, t.fd);
  else w.attrU32(IFLA.NET_NS_PID, t.pid);
}

function writeCommon(w: NlWriter, c: { name?: string; mtu?: number; hardwareAddr?: string; masterIndex?: number; netns?: NetnsTarget }): void {
  if (c.name !== undefined) w.attrStr(IFLA.IFNAME, c.name);
  if (c.mtu !== undefined) w.attrU32(IFLA.MTU, c.mtu);
  if (c.hardwareAddr !== undefined) w.attr(IFLA.ADDRESS, macBytes(c.hardwareAddr));
  if (c.masterIndex !== undefined) w.attrU32(IFLA.MASTER, c.masterIndex);
  writeNetns(w, c.netns);
}

/** The body of RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL for `spec`. */
export function writeLinkAdd(w: NlWriter, spec: LinkSpec): void {
  const up = spec.up ? IFF.UP : 0;
  writeIfinfomsg(w, 0, up, up);
  writeCommon(w, spec);
  w.nest(IFLA.LINKINFO, () => {
    w.attrStr(IFLA_INFO.KIND, spec.kind);
    if (spec.kind === 'veth') {
      // veth(4): the peer is described by its own ifinfomsg and attributes,
      // nested in IFLA_INFO_DATA/VETH_INFO_PEER.
      w.nest(IFLA_INFO.DATA, () => {
        w.nest(VETH_INFO_PEER, () => {
          writeIfinfomsg(w);
          writeCommon(w, spec.peer);
        });
      });
    }
  });
}

/** The body of RTM_NEWLINK changing link `index`. */
export function writeLinkChange(w: NlWriter, index: number, c: LinkChange): void {
  const change = c.up === undefined ? 0 : IFF.UP;
  writeIfinfomsg(w, index, c.up ? IFF.UP : 0, change);
  writeCommon(w, c);
}

/** Decodes one RTM_NEWLINK from a dump or an echo. */
export function decodeLink(payload: Uint8Array): Link {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const arphrd = dv.getUint16(2, true);
  const index = dv.getInt32(4, true);
  const flags = dv.getUint32(8, true);
  const a = attrMap(payload, IFINFOMSG_LEN);
  const info = a.get(IFLA.LINKINFO);
  const kind = info ? attrMap(info).get(IFLA_INFO.KIND) : undefined;
  const mac = a.get(IFLA.ADDRESS);
  const opt = (type: number) => { const d = a.get(type); return d ? readU32(d) : null; };
  return {
    index,
    name: readStr(a.get(IFLA.IFNAME) ?? new Uint8Array()),
    kind: kind ? readStr(kind) : null,
    linkType: ARPHRD[arphrd] ?? `arphrd:${arphrd}`,
    flags,
    up: (flags & IFF.UP) !== 0,
    mtu: opt(IFLA.MTU) ?? 0,
    hardwareAddr: mac && mac.length === 6 ? macString(mac) : null,
    masterIndex: opt(IFLA.MASTER),
    parentIndex: opt(IFLA.LINK),
    linkNetnsId: opt(IFLA.LINK_NETNSID),
    operState: OPERSTATES[readU8(a.get(IFLA.OPERSTATE) ?? Uint8Array.of(0))] ?? 'unknown',
    txQueueLen: opt(IFLA.TXQLEN),
  };
}
