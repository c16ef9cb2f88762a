// --console-socket: the pty master handed to the caller (conmon,
// containerd-shim) over an AF_UNIX socket as SCM_RIGHTS ancillary data
// (unix(7), cmsg(3)), with the pty's name as the message, as runc does.
import { closeSync } from 'node:fs';
import { Arena, NskError, SyscallError, syscall } from '@nsk/syscall';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;

/** Sends `fd` to the listener at `path` (a SOCK_STREAM unix socket). */
export function sendConsole(path: string, fd: number, name: string): void {
  const pathBytes = Buffer.from(path);
  if (pathBytes.length >= 108) throw new NskError(`console socket path too long (sun_path holds 107 bytes): ${path}`, 'ERR_NSK_CONSOLE_SOCKET');
  const a = Arena.map(4096);
  const sock = syscall('socket', AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  try {
    const v = new DataView(a.bytes.buffer, a.bytes.byteOffset, 4096);
    const base = a.address;
    // sockaddr_un at 0
    v.setUint16(0, AF_UNIX, true);
    a.bytes.set(pathBytes, 2);
    a.bytes[2 + pathBytes.length] = 0;
    try {
      syscall('connect', sock, base, 110);
    } catch (err) {
      if (err instanceof SyscallError) throw new NskError(`connect to the console socket ${path}: ${err.errno}`, 'ERR_NSK_CONSOLE_SOCKET', { cause: err });
      throw err;
    }
    // payload at 512, iovec at 256, cmsg at 384, msghdr at 128
    const payload = Buffer.from(name);
    a.bytes.set(payload, 512);
    v.setBigUint64(256, base + 512n, true);
    v.setBigUint64(264, BigInt(payload.length), true);
    v.setBigUint64(384, 20n, true);         // CMSG_LEN(sizeof(int))
    v.setInt32(392, SOL_SOCKET, true);
    v.setInt32(396, SCM_RIGHTS, true);
    v.setInt32(400, fd, true);
    v.setBigUint64(128, 0n, true);          // msg_name
    v.setUint32(136, 0, true);              // msg_namelen
    v.setBigUint64(144, base + 256n, true); // msg_iov
    v.setBigUint64(152, 1n, true);          // msg_iovlen
    v.setBigUint64(160, base + 384n, true); // msg_control
    v.setBigUint64(168, 24n, true);         // msg_controllen: CMSG_SPACE(sizeof(int))
    v.setInt32(176, 0, true);               // msg_flags
    syscall('sendmsg', sock, base + 128n, 0);
  } finally {
    closeSync(sock);
    a.release();
  }
}
