// /proc/PID/mountinfo (proc(5)): one line per mount, as this process's mount
// namespace sees it.
import { readFileSync } from 'node:fs';

export interface MountInfo {
  id: number;
  parentId: number;
  /** major:minor of the filesystem's device. */
  device: string;
  /** The directory of the filesystem that forms this mount's root. */
  root: string;
  /** Where it is mounted, relative to the process's root. */
  mountPoint: string;
  /** Per-mount options: rw, nosuid, nodev, noexec, relatime, … */
  options: string[];
  /** shared:N, master:N, propagate_from:N, unbindable. */
  optionalFields: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

// Spaces, tabs, newlines and backslashes in paths are written as octal escapes.
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountInfo(text: string): MountInfo[] {
  return text.split('\n').filter(Boolean).map((line) => {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) throw new Error(`not a mountinfo line: ${line}`);
    const f = left.split(' ');
    const [fsType = '', source = '', superOptions = ''] = right.split(' ');
    return {
      id: Number(f[0]),
      parentId: Number(f[1]),
      device: f[2]!,
      root: unescape(f[3]!),
      mountPoint: unescape(f[4]!),
      options: f[5]!.split(','),
      optionalFields: f.slice(6),
      fsType,
      source: unescape(source),
      superOptions: superOptions.split(','),
    };
  });
}

/** The mounts `pid` sees (default: this process). */
export function readMountInfo(pid: number | 'self' = 'self'): MountInfo[] {
  return parseMountInfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}
