// A container's record through its life: created (the supervisor is
// starting it), running, exited; and dead when its supervisor died first.
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Container } from '@nsk/container';
import type { ExitStatus } from '@nsk/clone';
import {
  alive, readRecord, removeDir, selfRef, startTimeOf, writeRecord,
  type ContainerRecord, type CreatedRecord, type StateRecord,
} from './state.ts';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function createdRecord(name: string, o: { detached: boolean; autoRemove: boolean; log?: string }): CreatedRecord {
  return {
    name, status: 'created', supervisor: selfRef(), detached: o.detached, autoRemove: o.autoRemove,
    createdAt: new Date().toISOString(), ...(o.log ? { log: o.log } : {}),
  };
}

export function runningRecord(created: CreatedRecord, c: Container): ContainerRecord {
  return { ...created, ...c.state(), status: 'running', pidStartTime: startTimeOf(c.pid) ?? 0 };
}

export function exitedRecord(rec: ContainerRecord, s: ExitStatus): ContainerRecord {
  const out: ContainerRecord = { ...rec, status: 'exited', exit: { code: s.code, signal: s.signal, status: s.status }, finishedAt: new Date().toISOString() };
  if (s.cleanupErrors?.length) out.error = `cleanup: ${s.cleanupErrors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`;
  return out;
}

/** True while the container's init runs (not a later process with its pid). */
export function containerAlive(rec: StateRecord): boolean {
  return rec.status === 'running' && alive({ pid: rec.pid, startTime: rec.pidStartTime });
}

/** True when the record says running (or starting) but its supervisor is gone. */
export function supervisorDied(rec: StateRecord): boolean {
  return (rec.status === 'running' || rec.status === 'created') && !alive(rec.supervisor);
}

/** Polls `done` every `every` ms until it holds or `ms` passed; true if it held. */
export async function until(done: () => boolean, ms: number, every = 10): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (done()) return true;
    if (Date.now() >= end) return false;
    await sleep(every);
  }
}

/**
 * Waits until the supervisor has recorded the end of the container (or
 * removed it, --rm), or has died. The record as it ended, null if removed.
 */
export async function waitFinished(name: string, ms: number): Promise<StateRecord | null> {
  let last: StateRecord | null = null;
  await until(() => {
    last = readRecord(name);
    return !last || (last.status !== 'running' && last.status !== 'created') || !alive(last.supervisor);
  }, ms);
  return last;
}

/**
 * Removes a cgroup left by a container whose supervisor died: kills what is
 * still in it and rmdir(2)s it, deepest first, in every hierarchy.
 * cgroups(7): a group can be removed once it has no processes and no child
 * groups; v2's cgroup.kill SIGKILLs the whole subtree at once.
 */
export async function removeCgroup(path: string): Promise<void> {
  const { detectLayout } = await import('@nsk/cgroup');
  const layout = detectLayout();
  const roots = [...layout.v1.map((h) => h.mountPoint), ...(layout.v2 ? [layout.v2.mountPoint] : [])];
  const dirs = roots.map((r) => join(r, path)).filter((d) => existsSync(d));
  const procs = (d: string): number[] => {
    const out: number[] = [];
    const walk = (x: string) => {
      try {
        out.push(...readFileSync(join(x, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
        for (const e of readdirSync(x, { withFileTypes: true })) if (e.isDirectory()) walk(join(x, e.name));
      } catch { /* removed meanwhile */ }
    };
    walk(d);
    return out;
  };
  for (const d of dirs) {
    if (existsSync(join(d, 'cgroup.kill'))) {
      try { writeFileSync(join(d, 'cgroup.kill'), '1'); } catch { /* emptied meanwhile */ }
    }
  }
  await until(() => {
    const left = dirs.flatMap(procs);
    for (const pid of left) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    return left.length === 0;
  }, 5000, 20);
  const rmTree = (d: string) => {
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(d, e.name));
      rmdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  };
  for (const d of dirs) rmTree(d);
}

/**
 * Cleans up after a container whose supervisor died (SIGKILLed, or the
 * machine's OOM killer): kills its init if it still runs — with a pid
 * namespace that ends every process in it (pid_namespaces(7)) — and
 * removes its cgroup. The container's own cleanup hooks never ran: what
 * they would have undone outside the cgroup is listed in the record.
 * Returns the record as it now stands ('dead'), or null if it was removed.
 */
export async function cleanDead(rec: StateRecord): Promise<StateRecord | null> {
  if (rec.status === 'created') {
    // It died while starting the container: there may be one, not yet
    // recorded. Whatever got that far is in the container's cgroup, which
    // @nsk/container names /nsk-<name> (ContainerState.cgroup).
    await removeCgroup(`/nsk-${rec.name}`);
    removeDir(rec.name);
    return null;
  }
  if (containerAlive(rec)) {
    try { process.kill(rec.pid, 'SIGKILL'); } catch { /* ended meanwhile */ }
    await until(() => !containerAlive(rec), 5000);
  }
  if (rec.cgroup) await removeCgroup(rec.cgroup);
  // An image's container directory in the store (upper, work, the mount
  // point: <store>/containers/<name>/merged), which its exit would have
  // removed. The overlay itself was mounted in the container's own mount
  // namespace, gone with its last process.
  const own = dirname(rec.rootfs);
  if (rec.image !== undefined && basename(rec.rootfs) === 'merged' && basename(own) === rec.name && basename(dirname(own)) === 'containers') {
    rmSync(own, { recursive: true, force: true });
  }
  if (rec.autoRemove) {
    removeDir(rec.name);
    return null;
  }
  const dead: ContainerRecord = {
    ...rec, status: 'dead', finishedAt: new Date().toISOString(),
    error: `its supervisor (pid ${rec.supervisor.pid}) died while it ran; nsk killed what was left and removed its cgroup${rec.network?.address ? ` (its address ${rec.network.address} is reclaimed when the next container joins the bridge)` : ''}`,
  };
  return writeRecord(dead) ? dead : null;
}

/** Reads the record and, if its supervisor died, cleans up first. Null when there is (now) none. */
export async function freshRecord(name: string): Promise<StateRecord | null> {
  const rec = readRecord(name);
  if (!rec) return null;
  return supervisorDied(rec) ? cleanDead(rec) : rec;
}
