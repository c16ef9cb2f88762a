// Namespaces held by a bind mount of their file (`ip netns add`): an nsfs
// mount in /proc/self/mountinfo, whose root field names the namespace,
// `net:[4026532177]` (proc(5), mountinfo).
import { readFileSync } from 'node:fs';
import { typeOfFile, type NamespaceType } from './types.ts';

export interface NsfsMount {
  type: NamespaceType;
  inode: number;
  /** Where it is mounted, as this process sees it. */
  mountPoint: string;
}

// Spaces, tabs, newlines and backslashes in paths are octal escapes.
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseNsfsMounts(mountinfo: string): NsfsMount[] {
  const out: NsfsMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right || right.split(' ')[0] !== 'nsfs') continue;
    const f = left.split(' ');
    const m = /^(\w+):\[(\d+)\]$/.exec(f[3] ?? '');
    const type = m ? typeOfFile(m[1]!) : undefined;
    if (!m || !type) continue;
    out.push({ type, inode: Number(m[2]), mountPoint: unescape(f[4]!) });
  }
  return out;
}

/** The nsfs mounts of this process's mount namespace. */
export function nsfsMounts(): NsfsMount[] {
  return parseNsfsMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
}
