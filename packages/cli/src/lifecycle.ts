// A container's record through its life: created (the supervisor is
// starting it), running, exited; and dead when its supervisor died first.
import type { CleanupTarget, Container } from '@nsk/container';
import type { ExitStatus } from '@nsk/clone';
import {
  alive, readRecord, removeDir, selfRef, startTimeOf, writeRecord,
  type ContainerRecord, type CreatedRecord, type StateRecord,
} from './state.ts';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function createdRecord(name: string, o: { detached: boolean; autoRemove: boolean; log?: string; pending?: CleanupTarget }): CreatedRecord {
  return {
    name, status: 'created', supervisor: selfRef(), detached: o.detached, autoRemove: o.autoRemove,
    createdAt: new Date().toISOString(), ...(o.log ? { log: o.log } : {}), ...(o.pending ? { pending: o.pending } : {}),
  };
}

export function runningRecord(created: CreatedRecord, c: Container): ContainerRecord {
  const { pending: _, ...base } = created;
  return { ...base, ...c.state(), status: 'running', pidStartTime: startTimeOf(c.pid) ?? 0 };
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
 * Cleans up after a container whose supervisor died (SIGKILLed, or the
 * machine's OOM killer), with @nsk/container's cleanupState() from the
 * record alone: its init SIGKILLed if it still runs — with a pid namespace
 * that ends every process in it (pid_namespaces(7)) — what is left in its
 * cgroup killed and the groups removed, its bridge lease, veth and /etc
 * files released, an image container's directory in the store removed.
 * Returns the record as it now stands ('dead'), or null if it was removed.
 */
export async function cleanDead(rec: StateRecord): Promise<StateRecord | null> {
  const { cleanupState } = await import('@nsk/container');
  if (rec.status === 'created') {
    // It died while starting the container: there may be one, not yet
    // recorded. What it knew before the start finds whatever got made.
    if (rec.pending) await cleanupState(rec.pending);
    removeDir(rec.name);
    return null;
  }
  await cleanupState(rec);
  if (rec.autoRemove) {
    removeDir(rec.name);
    return null;
  }
  const dead: ContainerRecord = {
    ...rec, status: 'dead', finishedAt: new Date().toISOString(),
    error: `its supervisor (pid ${rec.supervisor.pid}) died while it ran; nsk killed what was left, removed its cgroup${rec.network?.address ? ` and released its address ${rec.network.address}` : ''}`,
  };
  return writeRecord(dead) ? dead : null;
}

/** Reads the record and, if its supervisor died, cleans up first. Null when there is (now) none. */
export async function freshRecord(name: string): Promise<StateRecord | null> {
  const rec = readRecord(name);
  if (!rec) return null;
  return supervisorDied(rec) ? cleanDead(rec) : rec;
}
