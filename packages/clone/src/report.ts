// The error pipe: a failing plan step writes {u32 step index, i32 errno} and
// the child exits; a successful execve closes the pipe (it is O_CLOEXEC), so
// the parent reads end-of-file. Read through libuv's epoll loop (net.Socket
// over the pipe), never a blocking read(2) on the main thread.
import { Socket } from 'node:net';
import { REPORT_SIZE } from './plan/layout.ts';

export interface StepFailure {
  step: number;
  errno: number;
}

/** Takes ownership of `fd` and closes it. Null means execve succeeded. */
export function readReport(fd: number): Promise<StepFailure | null> {
  return new Promise((resolve, reject) => {
    const sock = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.once('error', (err) => {
      sock.destroy();
      reject(err);
    });
    sock.once('end', () => {
      sock.destroy();
      const all = Buffer.concat(chunks);
      if (all.length < REPORT_SIZE) resolve(null);
      else resolve({ step: all.readUInt32LE(0), errno: all.readInt32LE(4) });
    });
  });
}
