// A container's control groups opened again from another process (update):
// the directories its state file records give the group's path below each
// hierarchy's root, and @nsk/cgroup opens the group there (making nothing).
import { join } from 'node:path';
import { NskError } from '@nsk/syscall';
import { Cgroup, detectLayout, type Layout } from '@nsk/cgroup';
import type { Groups } from './cgroup.ts';

export interface OpenGroups {
  group: Cgroup;
  layout: Layout;
  /** The group's name and parent (`/nsk-runtime`), as create gave them to @nsk/cgroup. */
  name: string;
  parent: string;
  /** Its directory in the v1 devices hierarchy, when it has one (written by this package, not @nsk/cgroup). */
  devices: string | null;
}

export function openGroups(g: Groups, layout: Layout = detectLayout()): OpenGroups {
  const mounts = [...layout.v1.map((h) => h.mountPoint), ...(layout.v2 ? [layout.v2.mountPoint] : [])];
  let rel: string | undefined;
  for (const d of g.dirs) {
    const m = mounts.find((x) => d.startsWith(`${x}/`));
    if (m) { rel = d.slice(m.length + 1); break; }
  }
  if (rel === undefined) throw new NskError(`none of the container’s cgroup directories (${g.dirs.join(', ')}) is in a hierarchy mounted here`, 'ERR_NSK_CGROUP_MISSING');
  const parts = rel.split('/');
  const name = parts.pop()!;
  const parent = `/${parts.join('/')}`;
  const group = Cgroup.open({ name, parent, layout });
  const h = layout.v1.find((x) => x.controllers.includes('devices'));
  const devices = h && g.dirs.includes(join(h.mountPoint, rel)) ? join(h.mountPoint, rel) : null;
  return { group, layout, name, parent, devices };
}
