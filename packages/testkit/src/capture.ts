// A pipe for a child's output, read through a net.Socket so the event loop
// keeps turning while the child runs.
import { Socket } from 'node:net';
import { O, close, pipe2 } from '@nsk/syscall';

export interface Capture {
  /** The write end: pass it in the child's stdio. */
  readonly fd: number;
  /** Closes this process's write end; resolves with everything written. */
  text(): Promise<string>;
}

export function capture(): Capture {
  const [r, w] = pipe2(O.CLOEXEC);
  const sock = new Socket({ fd: r, readable: true, writable: false });
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  const all = new Promise<string>((resolve, reject) => {
    sock.once('error', reject);
    sock.once('end', () => {
      sock.destroy();
      resolve(Buffer.concat(chunks).toString());
    });
  });
  let closed = false;
  return {
    fd: w,
    text: () => {
      if (!closed) { closed = true; close(w); }
      return all;
    },
  };
}
