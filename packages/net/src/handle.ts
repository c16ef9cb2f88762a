// The rtnetlink API, object first then verb (linkAdd, addrAdd, routeAdd),
// on a Handle bound to one network namespace. Each call is one request on
// the Handle's netlink socket; the comment names its iproute2 equivalent.
import { ValidationError } from '@nsk/syscall';
import { NetlinkSocket } from './socket.ts';
import { inNetns } from './netns.ts';
import { checkLinkName } from './names.ts';
import { IFLA, NLM_F, RTM, RT_TABLE } from './nl/consts.ts';
import { decodeLink, writeIfinfomsg, writeLinkAdd, writeLinkChange, type Link, type LinkChange, type LinkSpec, type NetnsTarget } from './nl/link.ts';
import { decodeAddr, writeAddr, writeAddrFilter, type Addr, type AddrOptions } from './nl/addr.ts';
import { decodeRoute, writeRoute, writeRouteFilter, type Route, type RouteMsg } from './nl/route.ts';
import { AF_INET, AF_INET6, familyOf, parseCidr, type Cidr } from './ip.ts';
import { macBytes } from './ip.ts';

/** A link by name, by index, or as a dump returned it. */
export type LinkRef = string | number | Link;

/** A route to add or delete. */
export interface RouteSpec {
  /** `'10.88.0.0/16'`, or `'default'` (also the default when omitted). */
  dst?: string;
  gateway?: string;
  link?: LinkRef;
  /** Preferred source address (RTA_PREFSRC). */
  src?: string;
  table?: number;
  scope?: number;
  protocol?: number;
  type?: number;
  priority?: number;
  onlink?: boolean;
  /** Needed only for a default route without gateway: 4 or 6. */
  family?: 4 | 6;
}

export interface HandleOptions {
  /** The namespace to work in (an open fd); default: the caller's. */
  netns?: number | null;
  /** How long a request may wait for the kernel's answer. Default 5000 ms. */
  timeoutMs?: number;
}

const familyNumber = (f: 4 | 6 | undefined) => (f === 6 ? AF_INET6 : f === 4 ? AF_INET : 0);

export class Handle {
  readonly socket: NetlinkSocket;
  /** The namespace fd this Handle works in, null for the caller's own. */
  readonly netns: number | null;

  private constructor(socket: NetlinkSocket, netns: number | null) {
    this.socket = socket;
    this.netns = netns;
  }

  /**
   * A netlink socket in `netns` (or here). The socket stays in that
   * namespace, so every later call acts there, whatever thread state.
   */
  static open(o: HandleOptions = {}): Handle {
    const netns = o.netns ?? null;
    return new Handle(inNetns(netns, () => NetlinkSocket.open(o.timeoutMs)), netns);
  }

  close(): void {
    this.socket.close();
  }

  // --- links ---

  /** `ip link show`. */
  linkList(): Link[] {
    return this.socket.dump(RTM.GETLINK, (w) => writeIfinfomsg(w), { step: 'list links' }).filter((m) => m.type === RTM.NEWLINK).map((m) => decodeLink(m.payload));
  }

  /** `ip link show dev NAME`; ENODEV when there is none. */
  linkByName(name: string): Link {
    checkLinkName(name);
    const [m] = this.socket.request(RTM.GETLINK, 0, (w) => { writeIfinfomsg(w); w.attrStr(IFLA.IFNAME, name); }, { step: `find link ${name}`, args: [name] });
    if (!m) throw new Error(`find link ${name}: the kernel sent no link`);
    return decodeLink(m.payload);
  }

  linkByIndex(index: number): Link {
    const [m] = this.socket.request(RTM.GETLINK, 0, (w) => writeIfinfomsg(w, index), { step: `find link #${index}`, args: [index] });
    if (!m) throw new Error(`find link #${index}: the kernel sent no link`);
    return decodeLink(m.payload);
  }

  /** The index of a link given by name, index or value. */
  indexOf(link: LinkRef): number {
    if (typeof link === 'number') return link;
    if (typeof link === 'string') return this.linkByName(link).index;
    return link.index;
  }

  /**
   * `ip link add NAME type veth peer name PEER [netns X]`, `… type bridge`,
   * `… type dummy`. Fails with EEXIST when the name is taken.
   */
  linkAdd(spec: LinkSpec): void {
    checkLinkName(spec.name, 'name');
    if (spec.kind === 'veth') {
      if (!spec.peer) throw new ValidationError('peer', 'a veth needs a peer');
      checkLinkName(spec.peer.name, 'peer.name');
      if (spec.peer.hardwareAddr) macBytes(spec.peer.hardwareAddr, 'peer.hardwareAddr');
    }
    if (spec.hardwareAddr) macBytes(spec.hardwareAddr);
    const what = spec.kind === 'veth' ? `veth ${spec.name} peer ${spec.peer.name}` : `${spec.kind} ${spec.name}`;
    this.socket.request(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, (w) => writeLinkAdd(w, spec), { step: `create ${what}`, args: [what] });
  }

  /** `ip link del DEV`. Deleting one end of a veth deletes both. */
  linkDel(link: LinkRef): void {
    const index = this.indexOf(link);
    this.socket.request(RTM.DELLINK, 0, (w) => writeIfinfomsg(w, index), { step: `delete link ${show(link)}`, args: [show(link)] });
  }

  /** `ip link set DEV …`: several changes in one request. */
  linkSet(link: LinkRef, change: LinkChange): void {
    if (change.name !== undefined) checkLinkName(change.name, 'name');
    if (change.hardwareAddr !== undefined) macBytes(change.hardwareAddr);
    const index = this.indexOf(link);
    const words = Object.entries(change).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
    this.socket.request(RTM.NEWLINK, 0, (w) => writeLinkChange(w, index, change), { step: `set link ${show(link)} ${words}`, args: [show(link), words] });
  }

  /** `ip link set DEV up`. */
  linkSetUp(link: LinkRef): void { this.linkSet(link, { up: true }); }
  /** `ip link set DEV down`. */
  linkSetDown(link: LinkRef): void { this.linkSet(link, { up: false }); }
  /** `ip link set DEV mtu N`. */
  linkSetMTU(link: LinkRef, mtu: number): void { this.linkSet(link, { mtu }); }
  /** `ip link set DEV address MAC`. */
  linkSetHardwareAddr(link: LinkRef, mac: string): void { this.linkSet(link, { hardwareAddr: mac }); }
  /** `ip link set DEV name NEW`; the link must be down. */
  linkSetName(link: LinkRef, name: string): void { this.linkSet(link, { name }); }
  /** `ip link set DEV master BRIDGE`; null: `nomaster`. */
  linkSetMaster(link: LinkRef, master: LinkRef | null): void {
    this.linkSet(link, { masterIndex: master === null ? 0 : this.indexOf(master) });
  }
  /** `ip link set DEV netns PID`. */
  linkSetNsPid(link: LinkRef, pid: number): void { this.linkSet(link, { netns: { pid } }); }
  /** `ip link set DEV netns NAME` (an fd of the namespace). */
  linkSetNsFd(link: LinkRef, fd: number): void { this.linkSet(link, { netns: { fd } }); }

  // --- addresses ---

  /** `ip addr add ADDR/PREFIX dev DEV`. */
  addrAdd(link: LinkRef, cidr: string | Cidr, o: AddrOptions = {}): void {
    const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
    const index = this.indexOf(link);
    const what = `${c.address}/${c.prefix} dev ${show(link)}`;
    this.socket.request(RTM.NEWADDR, NLM_F.CREATE | NLM_F.EXCL, (w) => writeAddr(w, index, c, o), { step: `add address ${what}`, args: [what] });
  }

  /** `ip addr del ADDR/PREFIX dev DEV`. */
  addrDel(link: LinkRef, cidr: string | Cidr): void {
    const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
    const index = this.indexOf(link);
    const what = `${c.address}/${c.prefix} dev ${show(link)}`;
    this.socket.request(RTM.DELADDR, 0, (w) => writeAddr(w, index, c), { step: `delete address ${what}`, args: [what] });
  }

  /** `ip addr show [dev DEV]`, optionally one family (4 or 6). */
  addrList(link?: LinkRef, family?: 4 | 6): Addr[] {
    const index = link === undefined ? 0 : this.indexOf(link);
    const all = this.socket.dump(RTM.GETADDR, (w) => writeAddrFilter(w, familyNumber(family)), { step: 'list addresses' })
      .filter((m) => m.type === RTM.NEWADDR).map((m) => decodeAddr(m.payload));
    return index ? all.filter((a) => a.index === index) : all;
  }

  // --- routes ---

  #routeMsg(r: RouteSpec): RouteMsg {
    const dst = r.dst === undefined || r.dst === 'default' ? null : parseCidr(r.dst, 'dst');
    const family = dst?.family ?? (r.gateway !== undefined ? familyOf(r.gateway, 'gateway') : familyNumber(r.family) || AF_INET);
    if (r.gateway !== undefined && familyOf(r.gateway, 'gateway') !== family) throw new ValidationError('gateway', `${r.gateway} is not of the destination's family`);
    return {
      family,
      dst: dst ? dst.address : null,
      dstPrefix: dst ? dst.prefix : 0,
      ...(r.gateway !== undefined ? { gateway: r.gateway } : {}),
      ...(r.link !== undefined ? { linkIndex: this.indexOf(r.link) } : {}),
      ...(r.src !== undefined ? { prefsrc: r.src } : {}),
      ...(r.table !== undefined ? { table: r.table } : {}),
      ...(r.scope !== undefined ? { scope: r.scope } : {}),
      ...(r.protocol !== undefined ? { protocol: r.protocol } : {}),
      ...(r.type !== undefined ? { type: r.type } : {}),
      ...(r.priority !== undefined ? { priority: r.priority } : {}),
      ...(r.onlink ? { onlink: true } : {}),
    };
  }

  /** `ip route add DST [via GW] [dev DEV]`; `dst` omitted: the default route. */
  routeAdd(r: RouteSpec): void {
    const m = this.#routeMsg(r);
    const what = describeRoute(r);
    this.socket.request(RTM.NEWROUTE, NLM_F.CREATE | NLM_F.EXCL, (w) => writeRoute(w, m), { step: `add route ${what}`, args: [what] });
  }

  /** `ip route replace …`. */
  routeReplace(r: RouteSpec): void {
    const m = this.#routeMsg(r);
    const what = describeRoute(r);
    this.socket.request(RTM.NEWROUTE, NLM_F.CREATE | NLM_F.REPLACE, (w) => writeRoute(w, m), { step: `replace route ${what}`, args: [what] });
  }

  /** `ip route del …`. */
  routeDel(r: RouteSpec): void {
    const m = this.#routeMsg(r);
    const what = describeRoute(r);
    this.socket.request(RTM.DELROUTE, 0, (w) => writeRoute(w, m, true), { step: `delete route ${what}`, args: [what] });
  }

  /** `ip [-4|-6] route show table main` (the main table unless `table` says otherwise; 0: all tables). */
  routeList(family?: 4 | 6, table: number = RT_TABLE.MAIN): Route[] {
    return this.socket.dump(RTM.GETROUTE, (w) => writeRouteFilter(w, familyNumber(family)), { step: 'list routes' })
      .filter((m) => m.type === RTM.NEWROUTE).map((m) => decodeRoute(m.payload))
      .filter((r) => table === 0 || r.table === table);
  }
}

function show(link: LinkRef): string {
  return typeof link === 'object' ? link.name : typeof link === 'number' ? `#${link}` : link;
}

function describeRoute(r: RouteSpec): string {
  return [r.dst ?? 'default', r.gateway ? `via ${r.gateway}` : '', r.link !== undefined ? `dev ${show(r.link)}` : ''].filter(Boolean).join(' ');
}

export type { Link, LinkSpec, LinkChange, NetnsTarget, Addr, AddrOptions, Route };
