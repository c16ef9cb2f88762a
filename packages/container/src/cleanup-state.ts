// cleanupState(): what a container's end undoes, done from its saved state
// alone by any process — for a container whose starting process (the one
// that would have cleaned up) died first: SIGKILLed, or the OOM killer's.
//
// Order: the processes first (nothing may still use what is removed next),
// then their cgroups, then the bridge lease (@nsk/net releases a lease only
// once its container has ended), then an image container's directory.
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, normalize } from 'node:path';
import { NskError, ValidationError } from '@nsk/syscall';
import { detectLayout } from '@nsk/cgroup';
import type { Released } from '@nsk/net';
import { net, ns } from './lazy.ts';
import { NAME } from './spec.ts';
import { namespaceInodes, netnsInode, type ContainerState } from './state.ts';
import type { Prepared } from './prepare.ts';

/**
 * What cleanupState() reads: a ContainerState (Container.state(), or JSON
 * written by another process), or the part of one known before the start
 * (pendingState()): then everything that got made is found by name.
 */
export type CleanupTarget = Pick<ContainerState, 'name'> & Partial<Pick<ContainerState, 'pid' | 'namespaces' | 'cgroup' | 'rootfs' | 'imageDir' | 'network'>>;

export interface CleanupOptions {
  /**
   * An open fd of the network namespace that holds the container's bridge
   * (the `networkHost.netns` it was started with). Default: this process's
   * own. Checked against the inode the state recorded.
   */
  netns?: number;
  /** How long to wait for the processes to end and the groups to go. Default 5000 ms. */
  timeoutMs?: number;
}

export interface CleanupReport {
  /** PID 1, when it still ran and was SIGKILLed. */
  killed: number | null;
  /** Cgroup directories removed. */
  cgroups: string[];
  /** What @nsk/net released (bridge containers). */
  network: Released | null;
  /** The image container's directory, when it was there and is removed. */
  imageDir: string | null;
}

const fail = (field: string, message: string): never => { throw new ValidationError(field, message); };

/** An absolute, normalized path other than `/`, without `..`. */
function ownPath(field: string, v: unknown): string {
  if (typeof v !== 'string' || !isAbsolute(v) || normalize(v) !== v || v === '/' || v.includes('\0')) fail(field, `must be an absolute, normalized path other than /: ${JSON.stringify(v)}`);
  return v as string;
}

function check(s: CleanupTarget, o: CleanupOptions): { hostNetns: number | null } {
  if (typeof s !== 'object' || s === null) fail('state', 'give a ContainerState');
  if (typeof s.name !== 'string' || !NAME.test(s.name)) fail('state.name', `not a container name: ${JSON.stringify(s.name)}`);
  if (s.pid !== undefined && (!Number.isInteger(s.pid) || s.pid < 1)) fail('state.pid', `not a pid: ${String(s.pid)}`);
  if (s.namespaces !== undefined && (typeof s.namespaces !== 'object' || s.namespaces === null || !Object.values(s.namespaces).every(Number.isInteger))) fail('state.namespaces', 'must map kinds to inode numbers');
  if (s.cgroup !== undefined) ownPath('state.cgroup', s.cgroup);
  if (s.imageDir !== undefined) {
    ownPath('state.imageDir', s.imageDir);
    // As start() records it: the store's directory named for the container.
    if (basename(s.imageDir) !== s.name) fail('state.imageDir', `${s.imageDir} is not a directory of container ${s.name}`);
  }
  const n = s.network;
  if (n?.stateDir !== undefined) ownPath('state.network.stateDir', n.stateDir);
  if (n?.bridge !== undefined) net().checkLinkName(n.bridge, 'state.network.bridge');
  const o2 = o as Record<string, unknown>;
  for (const k of Object.keys(o2)) if (k !== 'netns' && k !== 'timeoutMs') fail(k, 'unknown option');
  if (o.timeoutMs !== undefined && (!Number.isFinite(o.timeoutMs) || o.timeoutMs < 0)) fail('timeoutMs', `must be a number of ms ≥ 0: ${String(o.timeoutMs)}`);
  let hostNetns: number | null = null;
  if (o.netns !== undefined) {
    let type = '';
    try {
      type = Number.isInteger(o.netns) && o.netns >= 0 ? ns().inspectFile(`/proc/self/fd/${o.netns}`).type : '';
    } catch { /* not an open namespace file */ }
    if (type !== 'net') fail('netns', `must be an open fd of a network namespace: ${String(o.netns)}`);
    hostNetns = o.netns;
  }
  if (n?.hostNetns !== undefined) {
    // The bridge, its veths and the lease's links are in one namespace;
    // removing them from another would find nothing, or the wrong ones.
    const here = netnsInode(hostNetns ?? undefined);
    if (here !== n.hostNetns) fail('netns', `container ${s.name}'s bridge is in network namespace net:[${n.hostNetns}], not net:[${String(here)}]${hostNetns === null ? ' where this process is: give netns, an fd of that namespace' : ''}`);
  }
  return { hostNetns };
}

/** True while `pid` is still the container the state describes (its namespace inodes match). */
function stillRuns(s: CleanupTarget): boolean {
  if (s.pid === undefined || s.namespaces === undefined || Object.keys(s.namespaces).length === 0) return false;
  const now = namespaceInodes(s.pid);
  return Object.entries(s.namespaces).every(([k, ino]) => now[k] === ino);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The group's directory in every hierarchy where it exists. */
function groupDirs(path: string): string[] {
  const l = detectLayout();
  return [...l.v1.map((h) => h.mountPoint), ...(l.v2 ? [l.v2.mountPoint] : [])].map((m) => join(m, path)).filter((d) => existsSync(d));
}

/** Every pid in `dir` and the groups below it. */
function procs(dir: string): number[] {
  const out: number[] = [];
  try {
    out.push(...readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(...procs(join(dir, e.name)));
  } catch { /* removed meanwhile */ }
  return out;
}

/**
 * Kills what is left in the groups and removes them, deepest first.
 * cgroups(7): a group is removed by rmdir(2) once it has no processes and
 * no child groups; cgroup v2's cgroup.kill SIGKILLs a whole subtree at once
 * (on a hybrid host too), on v1 each pid gets a SIGKILL until none is left.
 */
async function removeGroups(dirs: string[], deadline: number): Promise<string[]> {
  for (const d of dirs) {
    if (!existsSync(join(d, 'cgroup.kill'))) continue;
    try { writeFileSync(join(d, 'cgroup.kill'), '1'); } catch { /* emptied meanwhile */ }
  }
  for (;;) {
    const left = [...new Set(dirs.flatMap(procs))];
    if (left.length === 0) break;
    for (const pid of left) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (performance.now() > deadline) throw new NskError(`processes ${left.join(', ')} are still in ${dirs.join(', ')} after SIGKILL`, 'ERR_NSK_CGROUP_BUSY');
    await sleep(20);
  }
  const removed: string[] = [];
  const rmTree = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) if (e.isDirectory()) await rmTree(join(d, e.name));
    for (;;) {
      try {
        rmdirSync(d);
        removed.push(d);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        // A group whose last task just exited may answer EBUSY for a moment.
        if (code !== 'EBUSY' || performance.now() > deadline) throw err;
        await sleep(10);
      }
    }
  };
  for (const d of dirs) await rmTree(d);
  return removed;
}

/**
 * Undoes, from a saved state alone, what a container's end would have:
 * SIGKILLs its PID 1 if it still runs (which ends its pid namespace),
 * kills what is left in its cgroup and removes the groups in every
 * hierarchy, releases its bridge lease with its host veth and /etc files
 * (and the bridge after the last lease, @nsk/net's releaseNetwork), and
 * removes an image container's directory in the store. For a container
 * whose starting process died; never while that process still runs (its
 * lease is refused as held). Idempotent: what is gone already is skipped.
 * Invalid state or options throw ValidationError before anything is done.
 */
export async function cleanupState(state: CleanupTarget, opts: CleanupOptions = {}): Promise<CleanupReport> {
  const { hostNetns } = check(state, opts);
  const deadline = performance.now() + (opts.timeoutMs ?? 5000);
  const report: CleanupReport = { killed: null, cgroups: [], network: null, imageDir: null };

  // pid_namespaces(7): when PID 1 ends, the kernel SIGKILLs every other
  // process of its namespace. SIGKILL reaches it from outside, handler or not.
  if (stillRuns(state)) {
    try {
      process.kill(state.pid!, 'SIGKILL');
      report.killed = state.pid!;
    } catch { /* ended meanwhile */ }
  }
  if (state.cgroup !== undefined) report.cgroups = await removeGroups(groupDirs(state.cgroup), deadline);
  while (stillRuns(state)) {
    if (performance.now() > deadline) throw new NskError(`container ${state.name}'s PID 1 (${state.pid}) still runs after SIGKILL`, 'ERR_NSK_STILL_RUNNING');
    await sleep(10);
  }

  const n = state.network;
  if (n && (n.stateDir !== undefined || n.address !== undefined)) {
    report.network = net().releaseNetwork({
      id: state.name,
      ...(n.stateDir !== undefined ? { stateDir: n.stateDir } : {}),
      ...(n.bridge !== undefined ? { bridge: n.bridge } : {}),
      hostNetns,
    });
  }

  if (state.imageDir !== undefined && existsSync(state.imageDir)) {
    // The overlay was mounted in the container's own mount namespace, gone
    // with its last process: what is left are the store's plain directories.
    rmSync(state.imageDir, { recursive: true, force: true });
    report.imageDir = state.imageDir;
  }
  return report;
}

/**
 * The part of a container's state known before start(prepared) runs: its
 * name, its cgroup, where its bridge lease would be. Written down by a
 * caller that may die while starting, it lets cleanupState() find what got
 * made (an image's directory is not known yet: the store makes it at start).
 */
export function pendingState(prepared: Prepared): CleanupTarget {
  const c = prepared.checked;
  const single = prepared.peek();
  const cgroup = single.groups?.path ?? single.cgroup?.path;
  const hostNetns = c.network === 'bridge' ? netnsInode(c.networkHost.netns) : undefined;
  return {
    name: c.name,
    ...(cgroup !== undefined ? { cgroup } : {}),
    ...(c.network === 'bridge' ? {
      network: {
        ports: [],
        stateDir: c.networkHost.stateDir ?? net().DEFAULT_STATE_DIR,
        bridge: c.networkHost.bridge ?? net().DEFAULT_BRIDGE,
        ...(hostNetns !== undefined ? { hostNetns } : {}),
      },
    } : {}),
  };
}
