// Published ports (`-p 8080:80`): a userland TCP and UDP proxy in the host's
// namespace, forwarding to the container's address with node:net and
// node:dgram. No firewall rule is touched.
import { createServer, Socket, type Server } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { SyscallError, ValidationError, close } from '@nsk/syscall';
import { inNetns } from './netns.ts';
import { boundPort, boundSocket, inetSocket, type Protocol } from './inet-socket.ts';
import { AF_INET, familyOf } from './ip.ts';

export interface PortMapping {
  /** The host address to listen on. Default `0.0.0.0`. */
  hostIp: string;
  /** The host port; 0 lets the kernel choose (read it back from the proxy). */
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

const port = (s: string, field: string, zero: boolean): number => {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535 || (n === 0 && !zero)) throw new ValidationError(field, `${JSON.stringify(s)} is not a port (1–65535)`);
  return n;
};

/** `'8080:80'`, `'127.0.0.1:8080:80'`, `'[::1]:8080:80'`, `'5353:53/udp'`. */
export function parsePublish(spec: string | Partial<PortMapping>, field = 'publish'): PortMapping {
  if (typeof spec !== 'string') {
    const m = { hostIp: spec.hostIp ?? '0.0.0.0', hostPort: spec.hostPort ?? NaN, containerPort: spec.containerPort ?? NaN, protocol: spec.protocol ?? 'tcp' };
    port(String(m.hostPort), `${field}.hostPort`, true);
    port(String(m.containerPort), `${field}.containerPort`, false);
    if (m.protocol !== 'tcp' && m.protocol !== 'udp') throw new ValidationError(`${field}.protocol`, `tcp or udp, not ${JSON.stringify(m.protocol)}`);
    familyOf(m.hostIp, `${field}.hostIp`);
    return m;
  }
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(spec);
  if (!m) throw new ValidationError(field, `${JSON.stringify(spec)} is not [hostIp:]hostPort:containerPort[/tcp|/udp]`);
  const hostIp = m[1] ? m[1].replace(/^\[|\]$/g, '') : '0.0.0.0';
  familyOf(hostIp, field);
  return { hostIp, hostPort: port(m[2]!, field, true), containerPort: port(m[3]!, field, false), protocol: (m[4] ?? 'tcp') as Protocol };
}

/**
 * Fails with a ValidationError when `m`'s host port is taken, by binding it
 * and letting it go at once (in `netns`, or here). Nothing stays open.
 */
export function probePort(m: PortMapping, netns: number | null, field = 'publish'): void {
  if (m.hostPort === 0) return;
  let fd: number;
  try {
    fd = inNetns(netns, () => boundSocket(m.protocol, m.hostIp, m.hostPort));
  } catch (err) {
    if (err instanceof SyscallError && (err.errno === 'EADDRINUSE' || err.errno === 'EADDRNOTAVAIL' || err.errno === 'EACCES')) {
      const why = err.errno === 'EADDRINUSE' ? 'is already in use' : err.errno === 'EADDRNOTAVAIL' ? 'is not an address of this host' : 'may not be bound';
      throw new ValidationError(field, `host ${m.protocol} port ${m.hostIp}:${m.hostPort} ${why} (bind: ${err.errno})`);
    }
    throw err;
  }
  close(fd);
}

/** One published port, forwarding while it lives. */
export class PortProxy {
  readonly mapping: PortMapping;
  readonly target: string;
  /** The port the proxy listens on (the kernel's choice when hostPort was 0). */
  readonly hostPort: number;
  readonly #netns: number | null;
  readonly #close: () => Promise<void>;

  private constructor(mapping: PortMapping, target: string, hostPort: number, netns: number | null, closeFn: () => Promise<void>) {
    this.mapping = mapping;
    this.target = target;
    this.hostPort = hostPort;
    this.#netns = netns;
    this.#close = closeFn;
  }

  /** The namespace it listens in (null: this process's). */
  get netns(): number | null { return this.#netns; }

  /**
   * Listens on the host side (in `netns`, default here) and forwards each
   * connection or datagram to `target`:containerPort.
   */
  static async start(mapping: PortMapping, target: string, netns: number | null = null): Promise<PortProxy> {
    const fd = inNetns(netns, () => boundSocket(mapping.protocol, mapping.hostIp, mapping.hostPort));
    let hostPort: number;
    try {
      hostPort = boundPort(fd);
    } catch (err) {
      close(fd);
      throw err;
    }
    const closeFn = mapping.protocol === 'tcp'
      ? await tcpProxy(fd, target, mapping.containerPort, netns)
      : await udpProxy(fd, familyOf(mapping.hostIp) === AF_INET ? 'udp4' : 'udp6', target, mapping.containerPort, netns);
    return new PortProxy(mapping, target, hostPort, netns, closeFn);
  }

  /** Stops listening and ends every forwarded connection. */
  close(): Promise<void> {
    return this.#close();
  }
}

/**
 * A TCP connection to ip:port made from the namespace `netns` (null: here).
 * net.connect() creates its socket on a later tick, out of reach of a
 * synchronous setns; so the fd is made in `netns` first and handed to Node.
 */
export function connectFrom(netns: number | null, ip: string, p: number): Socket {
  if (netns === null) return new Socket().connect(p, ip);
  // The fd is born in `netns`; libuv's connect(2) then uses it as it is
  // (uv__tcp_connect keeps an existing fd). `manualStart` keeps Node from
  // reading the socket before it is connected.
  const fd = inNetns(netns, () => inetSocket('tcp', ip));
  const s = new Socket({ fd, readable: true, writable: true, manualStart: true } as ConstructorParameters<typeof Socket>[0]);
  return s.connect(p, ip);
}

async function tcpProxy(fd: number, target: string, p: number, netns: number | null): Promise<() => Promise<void>> {
  const open = new Set<Socket>();
  const server: Server = createServer({ pauseOnConnect: false }, (client) => {
    const upstream = connectFrom(netns, target, p);
    open.add(client);
    open.add(upstream);
    const end = () => { client.destroy(); upstream.destroy(); open.delete(client); open.delete(upstream); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd, backlog: 511 }, () => { server.off('error', reject); resolve(); });
  });
  return () => new Promise<void>((resolve) => {
    for (const s of open) s.destroy();
    server.close(() => resolve());
  });
}

async function udpProxy(fd: number, listenType: 'udp4' | 'udp6', target: string, p: number, netns: number | null): Promise<() => Promise<void>> {
  const type = familyOf(target) === AF_INET ? 'udp4' : 'udp6';
  const listener = createSocket(listenType);
  // One upstream socket per client address, so replies find their way back;
  // dropped after a minute of silence (as conntrack forgets a UDP flow).
  const flows = new Map<string, { sock: UdpSocket; timer: NodeJS.Timeout }>();
  const drop = (key: string) => {
    const f = flows.get(key);
    if (!f) return;
    clearTimeout(f.timer);
    f.sock.close();
    flows.delete(key);
  };
  listener.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let f = flows.get(key);
    if (!f) {
      const sock = createSocket(type);
      if (netns !== null) sock.bind({ fd: inNetns(netns, () => inetSocket('udp', target)) });
      sock.on('message', (reply) => listener.send(reply, rinfo.port, rinfo.address));
      sock.on('error', () => drop(key));
      f = { sock, timer: setTimeout(() => drop(key), 60_000) };
      flows.set(key, f);
    }
    f.timer.refresh();
    f.sock.send(msg, p, target);
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.bind({ fd }, () => { listener.off('error', reject); resolve(); });
  });
  return () => new Promise<void>((resolve) => {
    for (const key of [...flows.keys()]) drop(key);
    listener.close(() => resolve());
  });
}
