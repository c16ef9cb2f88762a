import { readlinkSync } from 'node:fs';

/** `readlink /proc/PID/ns/KIND` → the inode number in `kind:[inode]`. */
export function nsInode(pid: number | 'self', kind: string): number {
  const link = readlinkSync(`/proc/${pid}/ns/${kind}`);
  const m = /\[(\d+)\]$/.exec(link);
  if (!m) throw new Error(`unexpected ns link ${link}`);
  return Number(m[1]);
}
