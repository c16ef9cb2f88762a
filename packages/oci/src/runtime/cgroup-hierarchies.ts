// The host's cgroup hierarchies, as a `cgroup` mount of config.json shows
// them: every v1 hierarchy — the named ones too (`name=systemd`, which
// @nsk/cgroup's layout leaves out: it holds no controller to limit with,
// but programs in the container look for it) — and the cgroup2 one.
import { readFileSync } from 'node:fs';

export interface Hierarchy {
  /** The directory under the mount's destination: `memory`, `cpu,cpuacct`, `systemd`, `unified`. */
  dir: string;
  type: 'cgroup' | 'cgroup2';
  /**
   * mount(2) data choosing the hierarchy: its controllers, `name=X` for a
   * named one (cgroups(7): "none,name=X" mounts a hierarchy with no
   * controller). Null for cgroup2.
   */
  data: string | null;
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Per hierarchy, its first mount in /proc/self/mountinfo (proc(5)); a hierarchy mounted twice is one. */
export function hostHierarchies(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8'), controllerList = readFileSync('/proc/cgroups', 'utf8')): Hierarchy[] {
  // cgroups(7): /proc/cgroups lists the kernel's controllers, one a line.
  const known = new Set(controllerList.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/)[0]!));
  const out: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const mountPoint = unescape(line.slice(0, sep).split(' ')[4] ?? '');
    const [fsType, , superOptions = ''] = line.slice(sep + 3).split(' ');
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    const dir = mountPoint.split('/').pop() || 'unified';
    if (fsType === 'cgroup2') {
      if (seen.has('cgroup2')) continue;
      seen.add('cgroup2');
      out.push({ dir, type: 'cgroup2', data: null });
      continue;
    }
    // Super options such as "rw,cpu,cpuacct" or "rw,xattr,name=systemd":
    // the controllers and the name pick the hierarchy; rw, xattr,
    // release_agent= and the like are not part of its identity.
    const opts = superOptions.split(',');
    const name = opts.find((o) => o.startsWith('name='));
    const controllers = opts.filter((o) => known.has(o));
    const data = [...(controllers.length ? controllers : ['none']), ...(name ? [name] : [])].join(',');
    if (seen.has(data)) continue;
    seen.add(data);
    out.push({ dir, type: 'cgroup', data });
  }
  return out;
}
