// Runs a shell in a container whose root is an overlay of an image's
// layers, as @nsk/container will: @nsk/clone's spawn with @nsk/mount's
// rootfs({ overlay: { lower, upper, work } }). (@nsk/testkit's run() would
// do, but rootfs cannot depend on testkit: testkit depends on rootfs.)
import { execFileSync } from 'node:child_process';
import { Socket } from 'node:net';
import { spawn, type Child } from '@nsk/clone';
import { O, close, pipe2 } from '@nsk/syscall';
// @nsk/mount is not a dependency of @nsk/rootfs (it depends on us): reached by path, in tests only.
import { rootfs } from '../../mount/src/index.ts';

export interface RunResult { code: number | null; status: number; stdout: string; stderr: string }

/** A pipe read through a net.Socket so the event loop turns while the child runs. */
function capture(): { fd: number; text(): Promise<string> } {
  const [r, w] = pipe2(O.CLOEXEC);
  const sock = new Socket({ fd: r, readable: true, writable: false });
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  const all = new Promise<string>((resolve, reject) => {
    sock.once('error', reject);
    sock.once('end', () => { sock.destroy(); resolve(Buffer.concat(chunks).toString()); });
  });
  let closed = false;
  return { fd: w, text: () => { if (!closed) { closed = true; close(w); } return all; } };
}

export interface Overlay { lower: readonly string[]; upper: string; work: string; target: string }

/** `sh -c script` in new mount, pid, ipc and uts namespaces, rooted in the overlay of `o`; `during` runs while it lives. */
export async function shIn(o: Overlay, script: string, env: readonly string[] = ['PATH=/bin:/usr/bin:/sbin:/usr/sbin'], during?: (child: Child) => Promise<void>): Promise<RunResult> {
  const out = capture();
  const err = capture();
  let child: Child;
  try {
    child = await spawn({
      argv: ['/bin/sh', '-c', script], env,
      namespaces: ['mount', 'pid', 'ipc', 'uts'],
      features: [rootfs({ path: o.target, overlay: { lower: o.lower, upper: o.upper, work: o.work } })],
      stdio: [null, out.fd, err.fd],
    });
  } catch (e) {
    await Promise.all([out.text(), err.text()]);
    throw e;
  }
  void out.text();
  void err.text();
  if (during) {
    try { await during(child); } catch (e) { child.kill('SIGKILL'); await child.exited; throw e; }
  }
  const s = await child.exited;
  return { code: s.code, status: s.status, stdout: await out.text(), stderr: await err.text() };
}

/** What a tree holds, to compare before and after: path, type, size, mode, mtime, inode. */
export function snapshot(dir: string): string {
  return execFileSync('find', [dir, '-printf', '%P %y %s %m %T@ %i\n'], { encoding: 'utf8' }).split('\n').sort().join('\n');
}
