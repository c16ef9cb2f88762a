// Which cgroup hierarchies this host has, read from /proc/self/mountinfo
// (proc(5)) — cgroups(7) allows three layouts:
//   v1      one hierarchy per controller (or per group of co-mounted ones);
//   v2      a single unified hierarchy with every controller;
//   hybrid  v1 hierarchies for the controllers plus a cgroup2 mount, often
//           with no controllers at all (systemd's "hybrid" mode).
// A controller is bound to one hierarchy at a time: in a hybrid, the ones
// the v1 hierarchies hold are not available in v2.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupUnavailableError } from './errors.ts';

export interface V1Hierarchy {
  /** Where it is mounted: `/sys/fs/cgroup/memory`. */
  readonly mountPoint: string;
  /** Its controllers: `['cpu']`, or `['cpu', 'cpuacct']` when co-mounted. */
  readonly controllers: readonly string[];
}

export interface V2Hierarchy {
  readonly mountPoint: string;
  /** What its root's cgroup.controllers offers (empty on most hybrid hosts). */
  readonly controllers: readonly string[];
}

export interface Layout {
  readonly kind: 'v1' | 'v2' | 'hybrid';
  /** Controller-bearing v1 hierarchies (named ones such as name=systemd are left out). */
  readonly v1: readonly V1Hierarchy[];
  readonly v2: V2Hierarchy | null;
}

/** Controllers a v1 hierarchy may carry (cgroups(7), "Cgroups version 1 controllers"). */
export const V1_CONTROLLERS = ['cpuset', 'cpu', 'cpuacct', 'blkio', 'memory', 'devices', 'freezer', 'net_cls', 'perf_event', 'net_prio', 'hugetlb', 'pids', 'rdma', 'misc'] as const;

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The cgroup and cgroup2 mounts in a mountinfo text. */
export function parseCgroupMounts(mountinfo: string): { v1: V1Hierarchy[]; v2MountPoint: string | null } {
  const v1: V1Hierarchy[] = [];
  const seen = new Set<string>();
  let v2MountPoint: string | null = null;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fsType, , superOptions = ''] = line.slice(sep + 3).split(' ');
    const mountPoint = unescape(left[4] ?? '');
    if (fsType === 'cgroup2') {
      v2MountPoint ??= mountPoint;
    } else if (fsType === 'cgroup') {
      const opts = superOptions.split(',');
      const controllers = V1_CONTROLLERS.filter((c) => opts.includes(c));
      // A hierarchy mounted twice (a bind mount) is one hierarchy.
      const key = controllers.join(',');
      if (controllers.length === 0 || seen.has(key)) continue;
      seen.add(key);
      v1.push({ mountPoint, controllers });
    }
  }
  return { v1, v2MountPoint };
}

/** Names the layout from its parts. */
export function layoutOf(v1: readonly V1Hierarchy[], v2: V2Hierarchy | null): Layout {
  if (v1.length === 0 && v2 === null) throw new CgroupUnavailableError('cgroup', 'no cgroup or cgroup2 filesystem is mounted (mount -t cgroup2 none /sys/fs/cgroup)');
  const kind = v1.length === 0 ? 'v2' : v2 === null ? 'v1' : 'hybrid';
  return { kind, v1, v2 };
}

/** Reads this process's mounts and the cgroup2 root's controllers. */
export function detectLayout(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): Layout {
  const { v1, v2MountPoint } = parseCgroupMounts(mountinfo);
  const v2 = v2MountPoint === null ? null : {
    mountPoint: v2MountPoint,
    controllers: readFileSync(join(v2MountPoint, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean),
  };
  return layoutOf(v1, v2);
}

/**
 * The same host seen as if it had only its v1 or only its v2 part. On a
 * hybrid host this drives each half alone: `'v1'` is what a pure v1 host
 * does, `'v2'` is what the v2 driver can do with the controllers v2 has.
 */
export function restrictLayout(layout: Layout, to: 'v1' | 'v2'): Layout {
  if (to === 'v1') {
    if (layout.v1.length === 0) throw new CgroupUnavailableError('cgroup v1', 'this host has no v1 hierarchy with a controller');
    return { kind: 'v1', v1: layout.v1, v2: null };
  }
  if (layout.v2 === null) throw new CgroupUnavailableError('cgroup v2', 'this host has no cgroup2 mount');
  return { kind: 'v2', v1: [], v2: layout.v2 };
}

/** The v1 hierarchy that carries `controller`, if any. */
export function v1Hierarchy(layout: Layout, controller: string): V1Hierarchy | undefined {
  return layout.v1.find((h) => h.controllers.includes(controller));
}

/** One line of /proc/PID/cgroup: `hierarchy-ID:controllers:path` (cgroups(7)). */
export interface ProcCgroup {
  readonly id: number;
  /** `['cpu']`, `['name=systemd']`, or `[]` for the v2 line `0::/path`. */
  readonly controllers: readonly string[];
  readonly path: string;
}

export function parseProcCgroup(text: string): ProcCgroup[] {
  return text.split('\n').filter(Boolean).map((line) => {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    const list = line.slice(a + 1, b);
    return { id: Number(line.slice(0, a)), controllers: list ? list.split(',') : [], path: line.slice(b + 1) };
  });
}

/** `pid`'s cgroup path in the v2 hierarchy (the `0::` line), or null. */
export function v2PathOf(pid: number | 'self' = 'self'): string | null {
  const line = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).find((l) => l.id === 0);
  return line ? line.path : null;
}
