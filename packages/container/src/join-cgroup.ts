// Joining a running process's control groups: what `docker exec` does so
// that the new process is limited and counted with the container.
//
// cgroups(7): a process moves by a write of its pid to `cgroup.procs` of the
// group, in each hierarchy. Which groups: /proc/PID/cgroup of the target,
// read from here (our cgroup namespace is the host's, so its paths are
// full paths from each hierarchy's root).
import { readFileSync, writeFileSync } from 'node:fs';
import { NskError } from '@nsk/syscall';
import { detectLayout, parseProcCgroup, type Layout, type ProcCgroup } from '@nsk/cgroup';
import type { ChildInfo, Feature } from '@nsk/clone';

let layout: Layout | undefined;

/** Where the hierarchy of one /proc/PID/cgroup line is mounted; null for named v1 hierarchies (name=systemd). */
function mountPointOf(l: Layout, line: ProcCgroup): string | null {
  if (line.controllers.length === 0) return l.v2?.mountPoint ?? null;
  const want = [...line.controllers].sort().join(',');
  return l.v1.find((h) => [...h.controllers].sort().join(',') === want)?.mountPoint ?? null;
}

/** The cgroup.procs files of `target`'s groups that differ from this process's. */
export function cgroupProcsOf(target: number): string[] {
  const theirs = parseProcCgroup(readFileSync(`/proc/${target}/cgroup`, 'utf8'));
  const ours = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  layout ??= detectLayout();
  const files: string[] = [];
  for (const line of theirs) {
    const mine = ours.find((o) => o.id === line.id);
    if (mine && mine.path === line.path) continue;
    const at = mountPointOf(layout, line);
    if (at !== null) files.push(`${at}${line.path === '/' ? '' : line.path}/cgroup.procs`);
  }
  return files;
}

/** A Feature whose parent hook moves the child into `target`'s groups while it waits, before it runs anything. */
export function joinCgroup(target: number): Feature {
  const files = cgroupProcsOf(target);
  return {
    name: 'join-cgroup',
    parent(child: ChildInfo) {
      for (const file of files) {
        try {
          writeFileSync(file, String(child.pid));
        } catch (err) {
          throw new NskError(`join the container’s cgroup: write ${child.pid} to ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, (err as NodeJS.ErrnoException).code ?? 'ERR_NSK_CGROUP', { cause: err });
        }
      }
    },
  };
}
