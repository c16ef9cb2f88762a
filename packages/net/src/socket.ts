// An AF_NETLINK/NETLINK_ROUTE socket (netlink(7), rtnetlink(7)).
//
// Reading is synchronous: the kernel answers an rtnetlink request within
// the sendto(2) call itself (the reply is queued before sendto returns), so
// recvfrom(2) finds it waiting. SO_RCVTIMEO bounds the wait all the same, so
// a request the kernel never answers blocks the event loop for at most
// `timeoutMs` and then fails with EAGAIN instead of hanging.
//
// The socket lives in the network namespace the calling thread was in when
// it was opened, for its whole life (network_namespaces(7)); see netns.ts.
import { Arena, SyscallError, close, errnoNumber, errnoText, syscall } from '@nsk/syscall';
import { decodeError, decodeMessages, doneStatus, encodeMessage, type NlMessage } from './nl/message.ts';
import type { NlWriter } from './nl/attr.ts';
import { NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_ROUTE, NLM_F, NLMSG, RTM_NAMES, SOL_NETLINK } from './nl/consts.ts';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20; // SO_RCVTIMEO_OLD: a 16-byte struct timeval on 64-bit
const MSG_TRUNC = 0x20;

// One mmap'd region per socket: the kernel reads and writes it through raw
// syscalls, which take addresses, and an Arena has a stable one.
const SOCKADDR = 0; // struct sockaddr_nl {AF_NETLINK, 0, pid 0 (the kernel), groups 0}
const OPTVAL = 16; // an int or a struct timeval for setsockopt
const SEND = 4096;
const SEND_MAX = 32768;
const RECV = SEND + SEND_MAX;
const RECV_MAX = 128 * 1024;

/** What a request is, for errors: `create veth a`, and the words after the message type. */
export interface RequestInfo {
  step: string;
  args?: ReadonlyArray<string | number>;
}

export class NetlinkSocket {
  readonly fd: number;
  readonly timeoutMs: number;
  #arena: Arena;
  #view: DataView;
  #seq = Math.floor(Math.random() * 0x7fffffff);
  #closed = false;

  private constructor(fd: number, arena: Arena, timeoutMs: number) {
    this.fd = fd;
    this.#arena = arena;
    this.#view = new DataView(arena.bytes.buffer, arena.bytes.byteOffset, arena.bytes.byteLength);
    this.timeoutMs = timeoutMs;
  }

  /** socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) in the calling thread's network namespace. */
  static open(timeoutMs = 5000): NetlinkSocket {
    const arena = Arena.map(RECV + RECV_MAX);
    let fd = -1;
    try {
      fd = syscall('socket', AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
      const s = new NetlinkSocket(fd, arena, timeoutMs);
      s.#setInt(SOL_NETLINK, NETLINK_EXT_ACK, 1);
      s.#setInt(SOL_NETLINK, NETLINK_CAP_ACK, 1);
      const v = s.#view;
      v.setBigInt64(OPTVAL, BigInt(Math.floor(timeoutMs / 1000)), true);
      v.setBigInt64(OPTVAL + 8, BigInt((timeoutMs % 1000) * 1000), true);
      syscall('setsockopt', fd, SOL_SOCKET, SO_RCVTIMEO, arena.address + BigInt(OPTVAL), 16);
      arena.bytes.fill(0, SOCKADDR, SOCKADDR + 12);
      v.setUint16(SOCKADDR, AF_NETLINK, true);
      return s;
    } catch (err) {
      if (fd >= 0) close(fd);
      arena.release();
      throw err;
    }
  }

  #setInt(level: number, name: number, value: number): void {
    this.#view.setInt32(OPTVAL, value, true);
    syscall('setsockopt', this.fd, level, name, this.#arena.address + BigInt(OPTVAL), 4);
  }

  #send(msg: Uint8Array, info: RequestInfo): void {
    if (this.#closed) throw new Error('netlink socket is closed');
    if (msg.length > SEND_MAX) throw new RangeError(`netlink request of ${msg.length} bytes is over ${SEND_MAX}`);
    this.#arena.bytes.set(msg, SEND);
    try {
      syscall('sendto', this.fd, this.#arena.address + BigInt(SEND), msg.length, 0, this.#arena.address + BigInt(SOCKADDR), 12);
    } catch (err) {
      throw rewrap(err, info);
    }
  }

  /** One datagram from the kernel (a copy). */
  #receive(info: RequestInfo): NlMessage[] {
    let n: number;
    try {
      n = syscall('recvfrom', this.fd, this.#arena.address + BigInt(RECV), RECV_MAX, MSG_TRUNC, 0, 0);
    } catch (err) {
      if (err instanceof SyscallError && err.errno === 'EAGAIN') {
        throw new SyscallError({ step: info.step, syscall: 'recvfrom', errno: err.errnoNumber, args: [this.fd], hint: `no reply from the kernel within ${this.timeoutMs} ms` });
      }
      throw rewrap(err, info);
    }
    if (n > RECV_MAX) throw new RangeError(`${info.step}: a ${n}-byte netlink reply does not fit the ${RECV_MAX}-byte buffer`);
    return decodeMessages(this.#arena.bytes.slice(RECV, RECV + n));
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    return this.#seq;
  }

  /**
   * Sends a request with NLM_F_ACK and waits for the kernel's answer. Returns
   * the messages before the ACK (those NLM_F_ECHO asks for). A negative
   * NLMSG_ERROR becomes a SyscallError named after the message type.
   */
  request(type: number, flags: number, body: (w: NlWriter) => void, info: RequestInfo): NlMessage[] {
    const seq = this.#nextSeq();
    this.#send(encodeMessage(type, NLM_F.REQUEST | NLM_F.ACK | flags, seq, body), info);
    const got: NlMessage[] = [];
    for (;;) {
      for (const m of this.#receive(info)) {
        if (m.seq !== seq) continue; // a late reply to an earlier request
        if (m.type === NLMSG.ERROR) {
          const e = decodeError(m);
          if (e.errno !== 0) throw nlError(type, e.errno, e.text, info);
          return got;
        }
        if (m.type === NLMSG.DONE) return got;
        got.push(m);
      }
    }
  }

  /** A dump (NLM_F_DUMP): every message of the multipart reply, up to NLMSG_DONE. */
  dump(type: number, body: (w: NlWriter) => void, info: RequestInfo): NlMessage[] {
    const seq = this.#nextSeq();
    this.#send(encodeMessage(type, NLM_F.REQUEST | NLM_F.DUMP, seq, body), info);
    const got: NlMessage[] = [];
    for (;;) {
      for (const m of this.#receive(info)) {
        if (m.seq !== seq) continue;
        if (m.type === NLMSG.ERROR) {
          const e = decodeError(m);
          if (e.errno !== 0) throw nlError(type, e.errno, e.text, info);
          continue;
        }
        if (m.type === NLMSG.DONE) {
          const status = doneStatus(m);
          if (status < 0) throw nlError(type, -status, undefined, info);
          // netlink(7): NLM_F_DUMP_INTR — the table changed while it was
          // dumped, so the result may be inconsistent: dump again.
          if (m.flags & NLM_F.DUMP_INTR) return this.dump(type, body, info);
          return got;
        }
        if (m.type === NLMSG.NOOP) continue;
        got.push(m);
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    close(this.fd);
    this.#arena.release();
  }
}

function nlError(type: number, errno: number, text: string | undefined, info: RequestInfo): SyscallError {
  return new SyscallError({
    step: info.step,
    syscall: RTM_NAMES[type] ?? `netlink type ${type}`,
    errno,
    args: info.args ?? [],
    ...(text ? { hint: `${errnoText(errno)} (kernel: ${text})` } : {}),
  });
}

function rewrap(err: unknown, info: RequestInfo): unknown {
  if (!(err instanceof SyscallError)) return err;
  return new SyscallError({ step: info.step, syscall: err.syscall, errno: errnoNumber(err.errno), args: err.args, cause: err });
}
