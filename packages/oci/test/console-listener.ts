// The test's side of --console-socket, as conmon's: a unix stream socket
// listening, and recvmsg(2) of the SCM_RIGHTS fd (unix(7), cmsg(3)).
// listen(2) and accept4(2) are not in @nsk/syscall's table: called by
// number through its libc binding.
import { closeSync } from 'node:fs';
import { Arena, hostArch, libc, syscall } from '@nsk/syscall';

const NR = { x86_64: { listen: 50, accept4: 288 }, aarch64: { listen: 201, accept4: 242 } } as const;
const raw = (nr: number, ...a: number[]) => {
  const r = Number(libc().syscall(nr, a[0] ?? 0, a[1] ?? 0, a[2] ?? 0, a[3] ?? 0, 0, 0));
  if (r < 0) throw new Error(`syscall ${nr} failed`);
  return r;
};

export class ConsoleListener {
  readonly fd: number;
  readonly path: string;
  readonly #arena = Arena.map(4096);

  constructor(path: string) {
    this.path = path;
    this.fd = syscall('socket', 1, 1 | 0o2000000, 0);
    const v = new DataView(this.#arena.bytes.buffer, this.#arena.bytes.byteOffset, 4096);
    v.setUint16(0, 1, true);
    this.#arena.bytes.set(Buffer.from(`${path}\0`), 2);
    syscall('bind', this.fd, this.#arena.address, 110);
    raw(NR[hostArch as 'x86_64'].listen, this.fd, 4);
  }

  /** Accepts the connection the runtime made (queued in the backlog) and takes the fd it sent, with the message. */
  receive(): { fd: number; message: string } {
    const conn = raw(NR[hostArch as 'x86_64'].accept4, this.fd, 0, 0, 0o2000000);
    try {
      const a = this.#arena;
      const v = new DataView(a.bytes.buffer, a.bytes.byteOffset, 4096);
      a.bytes.fill(0, 128);
      v.setBigUint64(256, a.address + 512n, true);
      v.setBigUint64(264, 1024n, true);
      v.setBigUint64(144, a.address + 256n, true);
      v.setBigUint64(152, 1n, true);
      v.setBigUint64(160, a.address + 384n, true);
      v.setBigUint64(168, 64n, true);
      const n = syscall('recvmsg', conn, a.address + 128n, 0o2000000 /* MSG_CMSG_CLOEXEC */);
      const level = v.getInt32(392, true);
      const type = v.getInt32(396, true);
      if (level !== 1 || type !== 1) throw new Error(`no SCM_RIGHTS in the message (level ${level}, type ${type})`);
      return { fd: v.getInt32(400, true), message: Buffer.from(a.bytes.slice(512, 512 + n)).toString() };
    } finally {
      closeSync(conn);
    }
  }

  close(): void {
    closeSync(this.fd);
    this.#arena.release();
  }
}
