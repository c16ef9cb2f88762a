// Shared by the tests: observing the kernel from outside a child.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { O, close, pipe2 } from '@nsk/syscall';
import type { Feature } from '../src/index.ts';

/** Maps root inside to root outside, as `unshare -Ur` does. */
export function rootMap(): Feature {
  return {
    name: 'root-map',
    parent({ pid }) {
      writeFileSync(`/proc/${pid}/uid_map`, '0 0 1\n');
      writeFileSync(`/proc/${pid}/setgroups`, 'deny\n');
      writeFileSync(`/proc/${pid}/gid_map`, '0 0 1\n');
    },
  };
}

export const ALL7 = ['user', 'mount', 'uts', 'ipc', 'pid', 'net', 'cgroup'] as const;

/** The fds this process has open. */
export function openFds(pid: number | 'self' = 'self'): string[] {
  return readdirSync(`/proc/${pid}/fd`).sort((a, b) => Number(a) - Number(b));
}

/** Children of any thread of this process (zombies included). */
export function childrenOfThisProcess(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) =>
    readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}

/** One field of /proc/PID/status. */
export function status(pid: number, field: string): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  if (line === undefined) throw new Error(`/proc/${pid}/status has no ${field}`);
  return line.slice(field.length + 1).trim();
}

/**
 * A pipe for a child's output: pass `fd` in its stdio, then `text()` closes
 * this process's write end and resolves with everything the child wrote.
 */
export function capture(): { fd: number; text(): Promise<string> } {
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
  return { fd: w, text: () => (close(w), all) };
}
