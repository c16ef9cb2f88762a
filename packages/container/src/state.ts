// What a running container is, as JSON: enough for exec() and inspect from
// another process (the CLI's supervisor writes it to state.json).
import { readlinkSync } from 'node:fs';
import { ns } from './lazy.ts';

export interface ContainerState {
  name: string;
  /** PID 1 of the container, as the host sees it. */
  pid: number;
  startedAt: string;
  command: string[];
  /** The root directory: the rootfs given, or the image's overlay mount point. */
  rootfs: string;
  image?: string;
  /**
   * An image container's own directory in the store (its upper, work and
   * mount point), which its end removes; cleanupState() removes it too.
   */
  imageDir?: string;
  /** Kind (`mount`, `net`, … as @nsk/clone names them) → inode of /proc/PID/ns/FILE. */
  namespaces: Record<string, number>;
  /** The cgroup path from each hierarchy's root: `/nsk-<name>`. */
  cgroup?: string;
  /** Kept capabilities, `CAP_*` names. */
  capabilities: string[];
  /** 'default', 'unconfined', or the profile's JSON text. */
  seccomp: string;
  user: { uid: number; gid: number };
  env: string[];
  cwd: string;
  network?: NetworkState;
}

export interface NetworkState {
  address?: string;
  ports: string[];
  /** Bridge: where its lease and /etc files live (networkHost.stateDir, else /var/lib/nsk/net). */
  stateDir?: string;
  /** Bridge: the bridge's name. */
  bridge?: string;
  /** Bridge: inode of the network namespace that holds the bridge (the host's, or networkHost.netns). */
  hostNetns?: number;
}

/** /proc/PID/ns/* inodes by kind; kinds the kernel lacks (or an ended process) are left out. */
export function namespaceInodes(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  const { NAMESPACE_TYPES, NS_FILE } = ns();
  for (const type of NAMESPACE_TYPES) {
    try {
      const m = /\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/${NS_FILE[type]}`));
      if (m) out[type] = Number(m[1]);
    } catch {
      // No such kind here (time before 5.6), or the process is gone.
    }
  }
  return out;
}

/** The inode of a network namespace: the one `fd` refers to, else this thread's own. */
export function netnsInode(fd?: number): number | undefined {
  try {
    const m = /\[(\d+)\]$/.exec(readlinkSync(fd === undefined ? '/proc/thread-self/ns/net' : `/proc/self/fd/${fd}`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** `8080:80/tcp` as docker port prints it. */
export function showPort(hostIp: string, hostPort: number, containerPort: number, protocol: string): string {
  return `${hostIp === '0.0.0.0' ? '' : `${hostIp}:`}${hostPort}:${containerPort}/${protocol}`;
}
