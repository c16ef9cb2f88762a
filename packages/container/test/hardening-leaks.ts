// What a container could leave on the host, looked for by name: the
// cgroup `/nsk-<name>` in every hierarchy, the host end of its veth (by the
// ifindex its eth0 names as peer, /sys/class/net/eth0/iflink), its lease,
// any file or directory named after it in nsk's state directories or /tmp,
// and zombie children of this process. With a stand-in host (networkHost),
// its veths are looked for in that namespace, and its leases in its state
// directory as well as in the machine's. Looking by name keeps the check
// exact while other tests run containers of their own at the same time.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_STATE_DIR } from '@nsk/net';
import type { StandInHost } from './helpers/stand-in-host.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Every cgroup hierarchy's root directory (v1 controllers, named, and the unified one). */
export function hierarchies(): string[] {
  if (existsSync(join(CGROUP_ROOT, 'cgroup.procs'))) return [CGROUP_ROOT];
  return readdirSync(CGROUP_ROOT).map((h) => join(CGROUP_ROOT, h)).filter((h) => existsSync(join(h, 'cgroup.procs')));
}

/** Paths below `dir` (to `depth` levels) whose name contains one of `names`. */
function named(dir: string, names: readonly string[], depth: number): string[] {
  let entries: string[];
  try { entries = readdirSync(dir); } catch { return []; }
  return entries.flatMap((e) => {
    const p = join(dir, e);
    const hit = names.some((n) => e.includes(n)) ? [p] : [];
    let sub: string[] = [];
    try { if (depth > 1 && !hit.length && readdirSync(p)) sub = named(p, names, depth - 1); } catch { /* a file */ }
    return [...hit, ...sub];
  });
}

/** Processes whose parent is this one and that are zombies (ended, not reaped). */
export function zombies(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] === 'Z' && Number(f[1]) === process.pid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

export interface Leftovers {
  cgroups: string[];
  veths: string[];
  leases: string[];
  files: string[];
  zombies: number[];
}

/**
 * What is left of the containers `names` whose eth0 peers were `ifindexes`
 * (indexes in `host`'s namespace when given, else in this process's).
 */
export function leftovers(names: readonly string[], ifindexes: readonly number[], host?: StandInHost): Leftovers {
  const cgroups = hierarchies().flatMap((h) => names.map((n) => join(h, `nsk-${n}`)).filter((p) => existsSync(p)));
  const wanted = new Set(ifindexes);
  const veths = host
    ? [...host.linksByIndex()].filter(([i]) => wanted.has(i)).map(([, name]) => name)
    : readdirSync('/sys/class/net').filter((l) => {
      try { return wanted.has(Number(readFileSync(`/sys/class/net/${l}/ifindex`, 'utf8'))); } catch { return false; }
    });
  const leases: string[] = [];
  for (const dir of [DEFAULT_STATE_DIR, ...(host ? [host.stateDir] : [])]) {
    for (const bridge of existsSync(dir) ? readdirSync(dir) : []) {
      const file = join(dir, bridge, 'leases.json');
      if (!existsSync(file)) continue;
      const s = JSON.parse(readFileSync(file, 'utf8')) as { leases: Record<string, { id: string }> };
      for (const [addr, l] of Object.entries(s.leases)) if (names.includes(l.id)) leases.push(`${file} ${addr} ${l.id}`);
    }
  }
  const files = ['/var/lib/nsk', '/run/nsk', tmpdir(), '/tmp'].flatMap((d) => named(d, names, 4));
  return { cgroups, veths, leases, files: [...new Set(files)], zombies: zombies() };
}

export const NOTHING: Leftovers = { cgroups: [], veths: [], leases: [], files: [], zombies: [] };
