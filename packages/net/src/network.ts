// The Feature that gives a container its network (DESIGN.md §3):
//   none   — its own namespace with only lo, up (`unshare -n` + `ip link set lo up`)
//   host   — the host's namespace, shared (no isolation at all)
//   bridge — its own namespace, wired to a bridge on the host by a veth pair:
//            the host end a port of the bridge, the other end eth0 inside,
//            with a leased address and a default route via the bridge.
// The netlink work happens in `parent`, while the child waits at its first
// plan step; `cleanup` undoes it when the container ends, however it ends.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { CLONE, NskError, SyscallError, ValidationError } from '@nsk/syscall';
import type { ChildInfo, Feature } from '@nsk/clone';
import { Handle } from './handle.ts';
import { netnsOpen } from './netns.ts';
import { checkLinkName } from './names.ts';
import { LeaseStore, checkAddress } from './ipam.ts';
import { processId } from './proc.ts';
import { cidrContains, nthAddress, parseCidr, type Cidr } from './ip.ts';
import { hostsContent, resolvConfContent } from './etc-files.ts';
import { PortProxy, parsePublish, probePort, type PortMapping } from './ports.ts';
import { IFA_F } from './nl/consts.ts';
import { findNft, natDisable, natEnable } from './nat.ts';

export type NetworkMode = 'none' | 'host' | 'bridge';

export interface NetworkOptions {
  /** Default: `bridge` for root, `none` otherwise (creating a veth on the host needs CAP_NET_ADMIN there). */
  mode?: NetworkMode;
  /** The bridge's name (at most 15 bytes). Default `nsk0`. */
  bridge?: string;
  /** The bridge network. Default `10.88.0.0/16`. */
  subnet?: string;
  /** The bridge's own address, the containers' default gateway. Default: the subnet's first address. */
  gateway?: string;
  /** A fixed address for this container, inside the subnet. Default: the next free one. */
  ip?: string;
  /** Where leases live, across restarts. Default `/var/lib/nsk/net`. */
  stateDir?: string;
  /** The container's id (lease owner). Default: 12 random hex digits. */
  id?: string;
  /** The name /etc/hosts gives the container's address. Default: the id. */
  hostname?: string;
  /** Nameservers for resolv.conf. Default: the host's, less loopback ones. */
  dns?: readonly string[];
  /** Published ports: `'8080:80'`, `'127.0.0.1:8080:80/udp'`. */
  publish?: ReadonlyArray<string | Partial<PortMapping>>;
  /** MTU of the veth pair. Default: the kernel's (1500). */
  mtu?: number;
  /**
   * The network namespace that plays the host (an open fd): the bridge,
   * the veths' host ends and the published ports live there. Default: this
   * process's own. Tests pass a throwaway namespace to leave the host alone.
   */
  hostNetns?: number | null;
  /**
   * Outbound NAT: turn on IP forwarding and masquerade the subnet's traffic
   * that leaves by another link, with nft(8). Off by default: without it
   * nothing on the host firewall changes. Undone after the last container.
   */
  nat?: boolean;
}

/** What `parent` set up, for a bridge container. */
export interface Attachment {
  address: string;
  prefix: number;
  gateway: string;
  bridge: string;
  /** The host end of the veth pair, a port of the bridge. */
  hostVeth: string;
  /** The container's end, inside its namespace. */
  containerIf: 'eth0';
  /** The published ports, with the host port each really got. */
  ports: ReadonlyArray<{ mapping: PortMapping; hostPort: number }>;
}

export interface NetworkFeature extends Feature {
  readonly mode: NetworkMode;
  readonly id: string;
  /** Set once `parent` ran (bridge mode), null before and after. */
  readonly attachment: Attachment | null;
  /**
   * Files `parent` writes for the container (null in host mode). The caller
   * binds them onto the rootfs's /etc/hosts and /etc/resolv.conf (its plan
   * is built before the address is known, but runs after `parent`: the
   * paths are fixed now, the content is there when the child reads them).
   * Removed by `cleanup`.
   */
  readonly files: { readonly hosts: string; readonly resolvConf: string } | null;
  /** The content of /etc/hosts for the container (its address once known). */
  hosts(): string;
  /** The content of /etc/resolv.conf for the container. */
  resolvConf(): string;
  /** The lease store (bridge mode), for inspection. */
  readonly leases: LeaseStore | null;
}

interface Checked {
  mode: NetworkMode;
  bridge: string;
  subnet: Cidr;
  gateway: string;
  ip: string | undefined;
  stateDir: string;
  id: string;
  hostname: string;
  dns: readonly string[] | undefined;
  publish: PortMapping[];
  mtu: number | undefined;
  hostNetns: number | null;
  nat: boolean;
}

export const DEFAULT_BRIDGE = 'nsk0';
export const DEFAULT_SUBNET = '10.88.0.0/16';
export const DEFAULT_STATE_DIR = '/var/lib/nsk/net';

function check(o: NetworkOptions): Checked {
  const mode = o.mode ?? (process.getuid?.() === 0 ? 'bridge' : 'none');
  if (mode !== 'none' && mode !== 'host' && mode !== 'bridge') throw new ValidationError('mode', `none, host or bridge, not ${JSON.stringify(mode)}`);
  const bridge = checkLinkName(o.bridge ?? DEFAULT_BRIDGE, 'bridge');
  const subnet = parseCidr(o.subnet ?? DEFAULT_SUBNET, 'subnet');
  const gateway = o.gateway ?? nthAddress(subnet, 1n);
  if (!cidrContains(subnet, gateway)) throw new ValidationError('gateway', `${gateway} is outside the subnet ${o.subnet ?? DEFAULT_SUBNET}`);
  if (o.ip !== undefined) checkAddress(subnet, gateway, o.ip, 'ip');
  const stateDir = o.stateDir ?? DEFAULT_STATE_DIR;
  if (!isAbsolute(stateDir)) throw new ValidationError('stateDir', `must be an absolute path: ${stateDir}`);
  const id = o.id ?? randomBytes(6).toString('hex');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id)) throw new ValidationError('id', `letters, digits, _ . - (up to 64): ${JSON.stringify(id)}`);
  if (o.mtu !== undefined && (!Number.isInteger(o.mtu) || o.mtu < 68 || o.mtu > 65535)) throw new ValidationError('mtu', `68–65535, not ${o.mtu}`);
  const hostNetns = o.hostNetns ?? null;
  const publish = (o.publish ?? []).map((p, i) => parsePublish(p, `publish[${i}]`));
  if (publish.length && mode !== 'bridge') throw new ValidationError('publish', `ports are published to a bridge container; mode ${mode} has ${mode === 'host' ? 'the host’s ports already' : 'no network to publish to'}`);
  const seen = new Set<string>();
  publish.forEach((m, i) => {
    const key = `${m.protocol}/${m.hostIp}:${m.hostPort}`;
    if (m.hostPort !== 0 && seen.has(key)) throw new ValidationError(`publish[${i}]`, `host port ${key} is published twice`);
    seen.add(key);
    probePort(m, hostNetns, `publish[${i}]`);
  });
  const nat = o.nat ?? false;
  if (nat && mode !== 'bridge') throw new ValidationError('nat', `NAT is for bridge networks, not mode ${mode}`);
  if (nat && !findNft()) throw new ValidationError('nat', 'needs the nft program (Debian/Ubuntu: apt-get install nftables)');
  return { mode, bridge, subnet, gateway, ip: o.ip, stateDir, id, hostname: o.hostname ?? id, dns: o.dns, publish, mtu: o.mtu, hostNetns, nat };
}

/** What exists outside the container, so cleanup removes exactly that. */
interface Made {
  /** The lease file was changed (a lease taken, a bridge or NAT made). */
  store: boolean;
  lease: string | null;
  veth: string | null;
  proxies: PortProxy[];
  files: boolean;
}

/**
 * A network Feature for one container. Validates everything (names,
 * addresses, that published ports are free) before returning: bad input
 * fails here, before anything is created.
 */
export function network(options: NetworkOptions = {}): NetworkFeature {
  const c = check(options);
  const store = c.mode === 'bridge' ? new LeaseStore(c.stateDir, c.bridge, c.subnet, c.gateway) : null;
  const filesDir = join(c.stateDir, 'containers', c.id);
  const files = c.mode === 'host' ? null : { hosts: join(filesDir, 'hosts'), resolvConf: join(filesDir, 'resolv.conf') };
  // veth names: 'vnsk' + 8 hex fits IFNAMSIZ and cannot be mistaken for the bridge.
  const hostVeth = `vnsk${randomBytes(4).toString('hex')}`;
  let attachment: Attachment | null = null;
  let address: string | null = null;
  let made: Made | null = null;

  const hosts = () => hostsContent(c.hostname, c.mode === 'host' ? null : address);
  const resolvConf = () => resolvConfContent(c.dns);

  const writeFiles = (m: Made) => {
    if (!files) return;
    mkdirSync(filesDir, { recursive: true, mode: 0o755 });
    m.files = true;
    writeFileSync(files.hosts, hosts(), { mode: 0o644 });
    writeFileSync(files.resolvConf, resolvConf(), { mode: 0o644 });
  };

  async function parent(child: ChildInfo): Promise<void> {
    if (made) throw new NskError('a network() feature serves one container; make one per container', 'ERR_NSK_FEATURE_REUSED');
    const m: Made = (made = { store: false, lease: null, veth: null, proxies: [], files: false });
    const childNs = netnsOpen(child.pid);
    try {
      if (c.mode === 'none') {
        const inside = Handle.open({ netns: childNs.fd });
        try { inside.linkSetUp('lo'); } finally { inside.close(); }
        writeFiles(m);
        return;
      }
      const host = Handle.open({ netns: c.hostNetns });
      try {
        m.store = true;
        const bridgeIndex = store!.update((s) => {
          const index = ensureBridge(host, c, s);
          address = store!.allocate(s, c.id, hostVeth, c.ip, (_ip, old) => deleteIfThere(host, old.veth));
          m.lease = address;
          s.leases[address]!.container = processId(child.pid);
          if (c.nat && !s.nat) s.nat = natEnable(c.bridge, c.subnet, c.hostNetns);
          return index;
        });
        // veth(4): create the pair with its peer born in the child's
        // namespace as eth0 — no rename, no move, one request.
        host.linkAdd({
          kind: 'veth', name: hostVeth, masterIndex: bridgeIndex, up: true,
          ...(c.mtu !== undefined ? { mtu: c.mtu } : {}),
          peer: { name: 'eth0', netns: { fd: childNs.fd }, ...(c.mtu !== undefined ? { mtu: c.mtu } : {}) },
        });
        m.veth = hostVeth;
      } finally {
        host.close();
      }
      const inside = Handle.open({ netns: childNs.fd });
      try {
        inside.linkSetUp('lo');
        inside.addrAdd('eth0', { address: address!, prefix: c.subnet.prefix, family: c.subnet.family }, { flags: IFA_F.NODAD });
        inside.linkSetUp('eth0');
        inside.routeAdd({ gateway: c.gateway, link: 'eth0' });
      } finally {
        inside.close();
      }
      writeFiles(m);
      for (const mapping of c.publish) m.proxies.push(await PortProxy.start(mapping, address!, c.hostNetns));
      attachment = {
        address: address!, prefix: c.subnet.prefix, gateway: c.gateway, bridge: c.bridge, hostVeth, containerIf: 'eth0',
        ports: m.proxies.map((p) => ({ mapping: p.mapping, hostPort: p.hostPort })),
      };
    } finally {
      // Holding the child's namespace open would keep it (and the veth)
      // alive after the child ends (network_namespaces(7)).
      childNs.close();
    }
  }

  async function cleanup(): Promise<void> {
    const m = made;
    if (!m) return;
    const errors: unknown[] = [];
    const attempt = async (f: () => unknown) => { try { await f(); } catch (e) { errors.push(e); } };
    for (const p of m.proxies) await attempt(() => p.close());
    m.proxies = [];
    if (m.files) await attempt(() => rmSync(filesDir, { recursive: true, force: true }));
    if (store && m.store) {
      const host = Handle.open({ netns: c.hostNetns });
      try {
        // Usually gone already: a veth pair dies with either namespace.
        if (m.veth) await attempt(() => deleteIfThere(host, m.veth!));
        await attempt(() => store.update((s) => {
          if (m.lease && s.leases[m.lease]?.id === c.id) delete s.leases[m.lease];
          // The last container of the bridge undoes what nsk made for all.
          if (Object.keys(s.leases).length > 0) return;
          if (s.nat) {
            natDisable(s.nat, c.hostNetns);
            s.nat = null;
          }
          if (s.createdBridge) {
            deleteIfThere(host, c.bridge);
            s.createdBridge = false;
          }
        }));
      } finally {
        host.close();
      }
    }
    attachment = null;
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'network cleanup failed');
  }

  const feature: NetworkFeature = {
    name: `network:${c.mode}`,
    mode: c.mode,
    id: c.id,
    get attachment() { return attachment; },
    files,
    hosts,
    resolvConf,
    leases: store,
    ...(c.mode === 'host' ? {} : { cloneFlags: CLONE.NEWNET, parent, cleanup }),
  };
  return feature;
}

/**
 * The bridge's index, creating it (with the gateway address, up) when it is
 * missing — `ip link add nsk0 type bridge; ip addr add 10.88.0.1/16 dev nsk0;
 * ip link set nsk0 up` — and noting that we made it.
 */
function ensureBridge(host: Handle, c: Checked, s: { createdBridge: boolean }): number {
  try {
    const link = host.linkByName(c.bridge);
    if (link.kind !== 'bridge') throw new ValidationError('bridge', `${c.bridge} exists and is a ${link.kind ?? link.linkType} link, not a bridge`);
    return link.index;
  } catch (err) {
    if (!(err instanceof SyscallError && err.errno === 'ENODEV')) throw err;
  }
  host.linkAdd({ kind: 'bridge', name: c.bridge, ...(c.mtu !== undefined ? { mtu: c.mtu } : {}) });
  s.createdBridge = true;
  try {
    host.addrAdd(c.bridge, { address: c.gateway, prefix: c.subnet.prefix, family: c.subnet.family }, { flags: IFA_F.NODAD });
    host.linkSetUp(c.bridge);
    return host.linkByName(c.bridge).index;
  } catch (err) {
    deleteIfThere(host, c.bridge);
    s.createdBridge = false;
    throw err;
  }
}

/** `ip link del NAME`, quiet when it is already gone. */
function deleteIfThere(h: Handle, name: string): void {
  try {
    h.linkDel(name);
  } catch (err) {
    if (!(err instanceof SyscallError && err.errno === 'ENODEV')) throw err;
  }
}
