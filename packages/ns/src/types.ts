// namespaces(7): the eight kinds of namespace, the file each has under
// /proc/PID/ns/, and the CLONE_NEW* flag that names it to setns(2).
import { CLONE } from '@nsk/syscall';

/** A namespace kind, named as @nsk/clone names them (`mount`, not `mnt`). */
export type NamespaceType = 'cgroup' | 'ipc' | 'mount' | 'net' | 'pid' | 'time' | 'user' | 'uts';

/** Every kind, in the order lsns(8) shows them. */
export const NAMESPACE_TYPES: readonly NamespaceType[] = ['mount', 'net', 'time', 'cgroup', 'pid', 'user', 'uts', 'ipc'];

/** The file in /proc/PID/ns/ (and the word in a `readlink`: `mnt:[4026531832]`). */
export const NS_FILE: Readonly<Record<NamespaceType, string>> = {
  cgroup: 'cgroup', ipc: 'ipc', mount: 'mnt', net: 'net', pid: 'pid', time: 'time', user: 'user', uts: 'uts',
};

/** setns(2) `nstype`: the CLONE_NEW* flag of each kind. */
export const NS_FLAG: Readonly<Record<NamespaceType, number>> = {
  cgroup: CLONE.NEWCGROUP, ipc: CLONE.NEWIPC, mount: CLONE.NEWNS, net: CLONE.NEWNET,
  pid: CLONE.NEWPID, time: CLONE.NEWTIME, user: CLONE.NEWUSER, uts: CLONE.NEWUTS,
};

const BY_FILE = new Map(Object.entries(NS_FILE).map(([type, file]) => [file, type as NamespaceType]));
const BY_FLAG = new Map(Object.entries(NS_FLAG).map(([type, flag]) => [flag, type as NamespaceType]));

/** `'mnt'` → `'mount'`; undefined for anything else (`pid_for_children`). */
export function typeOfFile(file: string): NamespaceType | undefined {
  return BY_FILE.get(file);
}

/** `CLONE_NEWNET` → `'net'` (the answer of ioctl NS_GET_NSTYPE). */
export function typeOfFlag(flag: number): NamespaceType | undefined {
  return BY_FLAG.get(flag);
}

export function isNamespaceType(s: unknown): s is NamespaceType {
  return typeof s === 'string' && Object.hasOwn(NS_FLAG, s);
}

/** ioctl_ns(2) requests: _IO(0xb7, n). */
export const NS_GET = { USERNS: 0xb701, PARENT: 0xb702, NSTYPE: 0xb703, OWNER_UID: 0xb704 } as const;
