// What a running container is, as JSON: enough for exec() and inspect from
// another process (the CLI's supervisor writes it to state.json).
import { readlinkSync } from 'node:fs';
import { NAMESPACE_TYPES, NS_FILE } from '@nsk/ns';

export interface ContainerState {
  name: string;
  /** PID 1 of the container, as the host sees it. */
  pid: number;
  startedAt: string;
  command: string[];
  /** The root directory: the rootfs given, or the image's overlay mount point. */
  rootfs: string;
  image?: string;
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
  network?: { address?: string; ports: string[] };
}

/** /proc/PID/ns/* inodes by kind; kinds the kernel lacks (or an ended process) are left out. */
export function namespaceInodes(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
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

/** `8080:80/tcp` as docker port prints it. */
export function showPort(hostIp: string, hostPort: number, containerPort: number, protocol: string): string {
  return `${hostIp === '0.0.0.0' ? '' : `${hostIp}:`}${hostPort}:${containerPort}/${protocol}`;
}
