// One process's namespaces, as /proc/PID/ns/ shows them (namespaces(7)):
// each entry is a magic link to an nsfs inode; two processes share a
// namespace exactly when both links name the same device and inode.
import { fstatSync, readdirSync, statSync } from 'node:fs';
import { NS_GET, NAMESPACE_TYPES, typeOfFile, typeOfFlag, type NamespaceType } from './types.ts';
import { codeOf, fsError } from './fs-error.ts';
import { openNs, closeFd, ioctl } from './nsfd.ts';

export interface NamespaceId {
  type: NamespaceType;
  /** The nsfs inode: the number in `readlink /proc/PID/ns/net` → `net:[4026531840]`, lsns's NS. */
  inode: number;
  /** The nsfs device (st_dev). Same inode and device: same namespace. */
  device: number;
}

export interface ProcessNamespaces {
  pid: number | 'self';
  /** Every kind the kernel has, by type. */
  namespaces: Partial<Record<NamespaceType, NamespaceId>>;
  /**
   * pid_namespaces(7), time_namespaces(7): where this process's *next
   * children* will be born — differs from `namespaces` after setns(2) or
   * unshare(2) of a pid or time namespace.
   */
  forChildren: Partial<Record<'pid' | 'time', NamespaceId>>;
}

function idOf(type: NamespaceType, path: string, step: string): NamespaceId {
  try {
    // stat(2) follows the magic link to the nsfs inode itself.
    const st = statSync(path);
    return { type, inode: st.ino, device: st.dev };
  } catch (err) {
    throw fsError(err, step, path);
  }
}

/** `readlink /proc/PID/ns/*` and stat each: the namespaces of one process. */
export function inspect(pid: number | 'self' = 'self'): ProcessNamespaces {
  const dir = `/proc/${pid}/ns`;
  const step = `inspect the namespaces of process ${pid}`;
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (err) {
    throw fsError(err, step, dir, codeOf(err) === 'ENOENT' ? `there is no process ${pid}` : undefined);
  }
  const namespaces: ProcessNamespaces['namespaces'] = {};
  const forChildren: ProcessNamespaces['forChildren'] = {};
  for (const file of files) {
    const type = typeOfFile(file);
    if (type) namespaces[type] = idOf(type, `${dir}/${file}`, step);
    else if (file === 'pid_for_children' || file === 'time_for_children') {
      const kind = file === 'pid_for_children' ? 'pid' : 'time';
      // The link is dangling (ENOENT) while no such namespace is set for
      // children (a process whose pid namespace's init has died).
      try {
        forChildren[kind] = idOf(kind, `${dir}/${file}`, step);
      } catch (err) {
        if (codeOf(err) !== 'ENOENT') throw err;
      }
    }
  }
  return { pid, namespaces, forChildren };
}

export interface Comparison {
  /** Kinds both processes are in the same namespace of. */
  same: NamespaceType[];
  /** Kinds they are in different namespaces of. */
  different: NamespaceType[];
}

export const sameNamespace = (a: NamespaceId | undefined, b: NamespaceId | undefined): boolean =>
  a !== undefined && b !== undefined && a.inode === b.inode && a.device === b.device;

/** Which namespaces two processes share (`lsns -p A` beside `lsns -p B`). */
export function compare(a: number | 'self', b: number | 'self'): Comparison {
  const x = inspect(a).namespaces;
  const y = inspect(b).namespaces;
  const same: NamespaceType[] = [];
  const different: NamespaceType[] = [];
  for (const type of NAMESPACE_TYPES) {
    if (!x[type] || !y[type]) continue;
    (sameNamespace(x[type], y[type]) ? same : different).push(type);
  }
  return { same, different };
}

/**
 * What namespace a file names: a /proc/PID/ns/ link, or a bind mount of one
 * (`/run/netns/NAME`). ioctl_ns(2) NS_GET_NSTYPE gives its kind.
 */
export function inspectFile(path: string): NamespaceId {
  const fd = openNs(path, `inspect namespace file ${path}`);
  try {
    const flag = ioctl(fd, NS_GET.NSTYPE, `find the kind of namespace ${path} is`, path);
    const type = typeOfFlag(flag);
    if (!type) throw new Error(`ioctl NS_GET_NSTYPE on ${path} gave an unknown kind 0x${flag.toString(16)}`);
    const st = fstatSync(fd);
    return { type, inode: st.ino, device: st.dev };
  } finally {
    closeFd(fd);
  }
}
