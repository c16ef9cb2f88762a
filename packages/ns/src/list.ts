// Every namespace on the host, as lsns(8) lists them: scan /proc/*/ns/,
// group processes by namespace inode, and describe each namespace by its
// lowest-numbered process.
import { fstatSync, readlinkSync } from 'node:fs';
import { NAMESPACE_TYPES, NS_FILE, NS_GET, isNamespaceType, type NamespaceType } from './types.ts';
import { allPids, processInfo, userName, type ProcessInfo } from './proc.ts';
import { nsfsMounts } from './nsfs-mounts.ts';
import { closeFd, openNs } from './nsfd.ts';
import { syscall, ValidationError } from '@nsk/syscall';

export interface NamespaceEntry {
  type: NamespaceType;
  /** lsns NS: the nsfs inode number. */
  inode: number;
  /** lsns NPROCS: how many processes are in it. */
  nprocs: number;
  /** Those processes, ascending. */
  pids: number[];
  /** lsns PID: the lowest pid in it; null when only a bind mount holds it. */
  pid: number | null;
  /** lsns PPID, UID, USER, COMMAND: about `pid`. */
  ppid: number | null;
  uid: number | null;
  user: string | null;
  command: string | null;
  /**
   * lsns ONS: the user namespace that owns it (ioctl_ns(2) NS_GET_USERNS; for
   * a user namespace, its parent). Null for the initial user namespace.
   */
  owner: number | null;
  /** lsns PNS: the parent of a pid or user namespace (NS_GET_PARENT); null otherwise. */
  parent: number | null;
  /** lsns NSFS: bind mounts of its file in this process's mount namespace. */
  mounts: string[];
}

export interface ListOptions {
  /** Only these kinds (`lsns -t`). Default: all. */
  types?: readonly NamespaceType[];
  /**
   * Also namespaces no process is in, held only by a bind mount of their
   * file (`ip netns add` with nothing running inside). Default false, as
   * lsns 2.38 does.
   */
  mounted?: boolean;
}

interface Acc {
  type: NamespaceType;
  inode: number;
  members: ProcessInfo[];
  mounts: string[];
}

const LINK = /^\w+:\[(\d+)\]$/;

/** The inode in `readlink /proc/PID/ns/FILE`, null when unreadable (gone, or EACCES as for a foreign pid 1). */
function linkInode(pid: number, file: string): number | null {
  try {
    const m = LINK.exec(readlinkSync(`/proc/${pid}/ns/${file}`));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * ioctl_ns(2) on the namespace through one of its files; null when none can
 * be opened any more or the answer lies outside our user namespace (EPERM).
 */
function related(paths: readonly string[], inode: number, request: number): number | null {
  for (const path of paths) {
    let fd: number;
    try {
      fd = openNs(path, 'list namespaces');
    } catch {
      continue;
    }
    try {
      // The pid may have been reused since the scan: check it is still ours.
      if (fstatSync(fd).ino !== inode) continue;
      let other: number;
      try {
        other = syscall('ioctl', fd, request);
      } catch {
        return null;
      }
      try {
        return fstatSync(other).ino;
      } finally {
        closeFd(other);
      }
    } finally {
      closeFd(fd);
    }
  }
  return null;
}

/** `lsns`: every namespace some process is in (and, with `mounted`, every bind-mounted one). */
export function list(options: ListOptions = {}): NamespaceEntry[] {
  const types = options.types ?? NAMESPACE_TYPES;
  for (const t of types) if (!isNamespaceType(t)) throw new ValidationError('types', `unknown namespace kind ${JSON.stringify(t)} (known: ${NAMESPACE_TYPES.join(', ')})`);
  const byKey = new Map<string, Acc>();
  const acc = (type: NamespaceType, inode: number): Acc => {
    const key = `${type}:${inode}`;
    let a = byKey.get(key);
    if (!a) byKey.set(key, (a = { type, inode, members: [], mounts: [] }));
    return a;
  };
  for (const pid of allPids()) {
    const inodes = types.map((type) => [type, linkInode(pid, NS_FILE[type])] as const);
    if (inodes.every(([, ino]) => ino === null)) continue;
    const info = processInfo(pid);
    if (!info) continue;
    for (const [type, ino] of inodes) if (ino !== null) acc(type, ino).members.push(info);
  }
  for (const m of nsfsMounts()) {
    if (!types.includes(m.type)) continue;
    const key = `${m.type}:${m.inode}`;
    if (byKey.has(key) || options.mounted) acc(m.type, m.inode).mounts.push(m.mountPoint);
  }
  const entries: NamespaceEntry[] = [];
  for (const a of byKey.values()) {
    const rep = a.members[0] ?? null; // pids were scanned in ascending order
    const paths = [...a.members.map((p) => `/proc/${p.pid}/ns/${NS_FILE[a.type]}`), ...a.mounts];
    entries.push({
      type: a.type,
      inode: a.inode,
      nprocs: a.members.length,
      pids: a.members.map((p) => p.pid),
      pid: rep?.pid ?? null,
      ppid: rep?.ppid ?? null,
      uid: rep?.uid ?? null,
      user: rep ? userName(rep.uid) : null,
      command: rep?.command ?? null,
      owner: related(paths, a.inode, NS_GET.USERNS),
      parent: a.type === 'pid' || a.type === 'user' ? related(paths, a.inode, NS_GET.PARENT) : null,
      mounts: a.mounts,
    });
  }
  return entries.sort((x, y) => x.inode - y.inode || x.type.localeCompare(y.type));
}
