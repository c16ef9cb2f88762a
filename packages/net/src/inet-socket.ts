// TCP and UDP sockets made with raw syscalls, so that they are born in the
// network namespace the thread is in at that moment (netns.ts) and so that a
// taken port fails here, synchronously, with the errno. Node's net and dgram
// then take the fd over (`server.listen({fd})`, `socket.bind({fd})`).
import { Arena, close, syscall } from '@nsk/syscall';
import { AF_INET, AF_INET6, familyOf, ipBytes } from './ip.ts';

const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;

export type Protocol = 'tcp' | 'udp';

/** A non-blocking, close-on-exec socket of `protocol` for `ip`'s family. */
export function inetSocket(protocol: Protocol, ip: string): number {
  const family = familyOf(ip);
  return syscall('socket', family, (protocol === 'tcp' ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/** struct sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes); the port in network order. */
export function sockaddr(ip: string, port: number): Uint8Array {
  const family = familyOf(ip);
  const b = new Uint8Array(family === AF_INET ? 16 : 28);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, family, true);
  dv.setUint16(2, port, false);
  b.set(ipBytes(ip), family === AF_INET ? 4 : 8);
  return b;
}

/**
 * socket(2) + bind(2) to ip:port (not listening yet: Node's listen does
 * that). TCP gets SO_REUSEADDR, as every server does, so a port whose last
 * connections sit in TIME_WAIT can be taken again; an active listener still
 * makes bind fail with EADDRINUSE (socket(7)).
 */
export function boundSocket(protocol: Protocol, ip: string, port: number): number {
  const fd = inetSocket(protocol, ip);
  const mem = Arena.map(64);
  try {
    const dv = new DataView(mem.bytes.buffer, mem.bytes.byteOffset, 64);
    if (protocol === 'tcp') {
      dv.setInt32(32, 1, true);
      syscall('setsockopt', fd, SOL_SOCKET, SO_REUSEADDR, mem.address + 32n, 4);
    }
    if (familyOf(ip) === AF_INET6) {
      // ipv6(7): keep a `::` socket to IPv6, so it does not also claim the IPv4 port.
      dv.setInt32(32, 1, true);
      syscall('setsockopt', fd, IPPROTO_IPV6, IPV6_V6ONLY, mem.address + 32n, 4);
    }
    const sa = sockaddr(ip, port);
    mem.bytes.set(sa, 0);
    syscall('bind', fd, mem.address, sa.length);
    return fd;
  } catch (err) {
    close(fd);
    throw err;
  } finally {
    mem.release();
  }
}

/** The port a bound socket got (getsockname(2)), for port 0. */
export function boundPort(fd: number): number {
  const mem = Arena.map(64);
  try {
    const dv = new DataView(mem.bytes.buffer, mem.bytes.byteOffset, 64);
    dv.setUint32(32, 28, true);
    syscall('getsockname', fd, mem.address, mem.address + 32n);
    return dv.getUint16(2, false);
  } finally {
    mem.release();
  }
}

export { AF_INET, AF_INET6 };
