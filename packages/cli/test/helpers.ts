// Runs the real nsk binary (the sources, as `pnpm nsk` does) with a state
// directory of the test file's own, in a network namespace of the test
// file's own, and looks at what it left behind.
//
// A rule of this project: network tests use only loopback and network
// namespaces the test made itself. Every nsk a test runs starts inside a
// namespace made here (netnsNew(), lo up), which plays the host: a bridge
// container's nsk0, the veths' host ends and the published ports' listeners
// are made there, detached supervisors inherit it, and the leases and /etc
// files go under the state directory (NSK_STATE_DIR/net). The machine's own
// links and /var/lib/nsk/net are never touched.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Handle, inNetns, netnsNew, type Netns } from '@nsk/net';

export const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
export const NODE_ARGS = ['--conditions=nsk-source', '--no-warnings=ExperimentalWarning'];

/** A fresh state directory for this test file, removed at exit. */
export function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsk-cli-state-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Nsk {
  /** Runs nsk to completion. */
  (...args: string[]): SpawnSyncReturns<string>;
  /**
   * Starts nsk and returns the process (stdin /dev/null, stdout and stderr
   * piped, unless `stdio` says otherwise). Await its 'close', not 'exit':
   * only then are our ends of its pipes closed.
   */
  start(args: string[], opts?: { stdio?: 'pipe' | 'ignore' | 'inherit'; env?: Record<string, string> }): ChildProcess;
  /** Runs nsk asynchronously; resolves with its status and output. */
  async(args: string[], opts?: { input?: string }): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  state: string;
  env: Record<string, string>;
  /** The network namespace every nsk here runs in (null: the machine's own). */
  netns: Netns | null;
  /** Runs `fn` (which spawns a process) with this thread in `netns`: what it spawns starts there. */
  inside<T>(fn: () => T): T;
}

/** A new network namespace with lo up, held by an fd until this process exits. */
export function standInNetns(): Netns {
  const ns = netnsNew();
  const h = Handle.open({ netns: ns.fd });
  try { h.linkSetUp('lo'); } finally { h.close(); }
  process.once('exit', () => ns.close());
  return ns;
}

/**
 * nsk with state directory `state`, run inside `o.netns` — by default a
 * new namespace of this file's own (standInNetns()); null runs it in the
 * machine's namespace, only for tests that need none of nsk's networking
 * and reach a server on the machine's loopback.
 */
export function nskIn(state: string, o: { netns?: Netns | null } = {}): Nsk {
  const netns = o.netns === undefined ? standInNetns() : o.netns;
  // spawn(2)'s fork happens on this thread, synchronously: the child is born in `netns`.
  const inside = <T>(fn: () => T): T => inNetns(netns?.fd ?? null, fn);
  const env = { ...(process.env as Record<string, string>), NSK_STATE_DIR: state, PATH: `/usr/local/bin:${process.env.PATH ?? '/usr/bin:/bin'}` };
  const f = ((...args: string[]) => inside(() => spawnSync(process.execPath, [...NODE_ARGS, MAIN, ...args], { encoding: 'utf8', env, timeout: 60_000 }))) as Nsk;
  f.start = (args, opts = {}) => inside(() => spawn(process.execPath, [...NODE_ARGS, MAIN, ...args], { env: { ...env, ...opts.env }, stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'] }));
  f.async = (args, opts = {}) => new Promise((resolve, reject) => {
    const c = inside(() => spawn(process.execPath, [...NODE_ARGS, MAIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    c.stdout!.on('data', (d) => { stdout += String(d); });
    c.stderr!.on('data', (d) => { stderr += String(d); });
    c.on('error', reject);
    c.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    c.stdin!.end(opts.input ?? '');
  });
  f.state = state;
  f.env = env;
  f.netns = netns;
  f.inside = inside;
  return f;
}

/** The inode of `nsk`'s network namespace (`net:[N]`). */
export function netnsInode(nsk: Nsk): number {
  return Number(/\[(\d+)\]/.exec(readlinkSync(nsk.netns ? `/proc/self/fd/${nsk.netns.fd}` : '/proc/self/ns/net'))![1]);
}

/** Link names in `nsk`'s network namespace. */
export function linksOf(nsk: Nsk): string[] {
  const h = Handle.open({ netns: nsk.netns?.fd ?? null });
  try { return h.linkList().map((l) => l.name).sort(); } finally { h.close(); }
}

/** True when a link of that name exists in the machine's namespace (this process's own). */
export function machineHasLink(name: string): boolean {
  const h = Handle.open();
  try { return h.linkList().some((l) => l.name === name); } finally { h.close(); }
}

export interface Leases { createdBridge: boolean; leases: Record<string, { id: string; veth: string }> }

/** A bridge's lease file in a state directory (`<dir>/<bridge>/leases.json`); null when there is none. */
export function leasesIn(dir: string, bridge = 'nsk0'): Leases | null {
  try {
    return JSON.parse(readFileSync(join(dir, bridge, 'leases.json'), 'utf8')) as Leases;
  } catch {
    return null;
  }
}

/**
 * The containers left in `nsk`'s state dir, after removing them (rm -f):
 * a failed test must not leave one running into the next.
 */
export function removeLeftovers(nsk: Nsk): string[] {
  const left = containersIn(nsk.state);
  if (left.length) nsk('rm', '-f', ...left);
  return left;
}

/** The container directories left in a state dir. */
export function containersIn(state: string): string[] {
  const d = join(state, 'containers');
  return existsSync(d) ? readdirSync(d) : [];
}

/** Every cgroup directory named for `name` (`nsk-<name>` or containing it) in every hierarchy. */
export function cgroupsOf(name: string): string[] {
  const out: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const dir = join('/sys/fs/cgroup', h);
    try {
      for (const e of readdirSync(dir)) if (e.includes(name)) out.push(join(dir, e));
    } catch { /* a file, not a hierarchy */ }
  }
  return out;
}

export { processesWith } from '@nsk/testkit';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `f` returns a truthy value (or throws after `ms`). */
export async function waitFor<T>(f: () => T | undefined | null | false, ms = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The pid of the first descendant of `pid` whose comm is `comm`. */
export function descendant(pid: number, comm: string): number | null {
  const kids = (p: number): number[] => {
    try {
      return readdirSync(`/proc/${p}/task`).flatMap((t) => readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      return [];
    }
  };
  const queue = kids(pid);
  while (queue.length) {
    const k = queue.shift()!;
    try {
      if (readFileSync(`/proc/${k}/comm`, 'utf8').trim() === comm) return k;
    } catch { /* gone */ }
    queue.push(...kids(k));
  }
  return null;
}

export { spawnSync };
