// struct rtmsg {u8 family, dst_len, src_len, tos, table, protocol, scope,
// type; u32 flags} and the RTA_* attributes of RTM_{NEW,DEL,GET}ROUTE
// (rtnetlink(7)).
import { NlWriter, attrMap, readU32 } from './attr.ts';
import { RTA, RTMSG_LEN, RTN, RTPROT, RT_SCOPE, RT_TABLE } from './consts.ts';
import { ipBytes, ipString } from '../ip.ts';

/** A route as a dump reports it (`ip -json route show`). */
export interface Route {
  family: number;
  /** Destination network; null for the default route. */
  dst: string | null;
  dstPrefix: number;
  gateway: string | null;
  /** Output link's index (RTA_OIF). */
  linkIndex: number | null;
  prefsrc: string | null;
  table: number;
  protocol: number;
  scope: number;
  type: number;
  priority: number | null;
  /** RTM_F_* / RTNH_F_* flags. */
  flags: number;
}

/** A route to add or delete, in kernel terms (api.ts resolves names). */
export interface RouteMsg {
  family: number;
  dst: string | null;
  dstPrefix: number;
  gateway?: string;
  linkIndex?: number;
  prefsrc?: string;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
  priority?: number;
  /** RTNH_F_ONLINK: the gateway is on the link even if no prefix says so. */
  onlink?: boolean;
}

const RTNH_F_ONLINK = 4;

export function writeRoute(w: NlWriter, r: RouteMsg, forDelete = false): void {
  const table = r.table ?? RT_TABLE.MAIN;
  // ip-route(8): a route with no gateway is on-link (scope link); one via a
  // gateway is universe. A delete with scope NOWHERE matches any scope.
  const scope = r.scope ?? (forDelete ? RT_SCOPE.NOWHERE : r.gateway === undefined && r.linkIndex !== undefined ? RT_SCOPE.LINK : RT_SCOPE.UNIVERSE);
  w.u8(r.family).u8(r.dstPrefix).u8(0).u8(0)
    .u8(table < 256 ? table : RT_TABLE.UNSPEC)
    .u8(r.protocol ?? (forDelete ? RTPROT.UNSPEC : RTPROT.BOOT))
    .u8(scope)
    .u8(r.type ?? (forDelete ? RTN.UNSPEC : RTN.UNICAST))
    .u32(r.onlink ? RTNH_F_ONLINK : 0);
  if (r.dst !== null) w.attr(RTA.DST, ipBytes(r.dst));
  if (r.gateway !== undefined) w.attr(RTA.GATEWAY, ipBytes(r.gateway));
  if (r.linkIndex !== undefined) w.attrU32(RTA.OIF, r.linkIndex);
  if (r.prefsrc !== undefined) w.attr(RTA.PREFSRC, ipBytes(r.prefsrc));
  if (r.priority !== undefined) w.attrU32(RTA.PRIORITY, r.priority);
  if (table >= 256) w.attrU32(RTA.TABLE, table);
}

export function writeRouteFilter(w: NlWriter, family = 0, table = 0): void {
  w.u8(family).u8(0).u8(0).u8(0).u8(table < 256 ? table : 0).u8(0).u8(0).u8(0).u32(0);
  if (table >= 256) w.attrU32(RTA.TABLE, table);
}

export function decodeRoute(payload: Uint8Array): Route {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const a = attrMap(payload, RTMSG_LEN);
  const addr = (t: number) => { const d = a.get(t); return d ? ipString(d) : null; };
  const u32 = (t: number) => { const d = a.get(t); return d ? readU32(d) : null; };
  const dst = addr(RTA.DST);
  return {
    family: dv.getUint8(0),
    dst,
    dstPrefix: dv.getUint8(1),
    gateway: addr(RTA.GATEWAY),
    linkIndex: u32(RTA.OIF),
    prefsrc: addr(RTA.PREFSRC),
    table: u32(RTA.TABLE) ?? dv.getUint8(4),
    protocol: dv.getUint8(5),
    scope: dv.getUint8(6),
    type: dv.getUint8(7),
    priority: u32(RTA.PRIORITY),
    flags: dv.getUint32(8, true),
  };
}
