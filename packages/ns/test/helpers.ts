// Shared by the tests: a small container to look at, and reading a child's output.
import { readFileSync, readlinkSync } from 'node:fs';
import { spawn, Plan, type Child, type NamespaceName, type Feature } from '@nsk/clone';
import { capture, leftSince, type HostState } from '@nsk/testkit';
import { enter, type EnterOptions } from '../src/index.ts';

export const SIX: readonly NamespaceName[] = ['mount', 'uts', 'ipc', 'pid', 'net', 'cgroup'];
export const NS_FILES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;

export interface BoxOptions {
  hostname?: string;
  namespaces?: readonly NamespaceName[];
  /** A shell script run as pid 1 instead of `busybox sleep 1000`. */
  script?: string;
  plan?: Plan;
  features?: readonly Feature[];
}

/** A container: new namespaces, a hostname, and busybox sleeping as its pid 1. */
export async function box(o: BoxOptions = {}): Promise<Child> {
  const plan = o.plan ?? new Plan();
  const namespaces = o.namespaces ?? SIX;
  if (namespaces.includes('uts')) plan.sethostname(o.hostname ?? 'nsk-box');
  const argv = o.script ? ['/bin/busybox', 'sh', '-c', o.script] : ['/bin/busybox', 'sleep', '1000'];
  return spawn({ argv, namespaces, plan, features: o.features ?? [], stdio: [null, null, 2] });
}

/** Kills a container from outside (pid 1 ignores SIGTERM it has no handler for) and waits. */
export async function stop(c: Child): Promise<void> {
  c.kill('SIGKILL');
  await c.exited;
}

/** `readlink /proc/PID/ns/FILE` for every kind. */
export function links(pid: number | 'self'): Record<(typeof NS_FILES)[number], string> {
  return Object.fromEntries(NS_FILES.map((f) => [f, readlinkSync(`/proc/${pid}/ns/${f}`)])) as Record<(typeof NS_FILES)[number], string>;
}

/** The last field of NSpid in /proc/PID/status: the pid as its own pid namespace numbers it. */
export function innerPid(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('NSpid:'))!;
  return Number(line.split(/\s+/).at(-1));
}

export interface EnterResult {
  status: number;
  stdout: string;
  /** The entered process's pid, as this process sees it. */
  pid: number;
}

/**
 * enter() a `sh -c script` with its output captured; `during(pid)` runs
 * while it lives (the script should wait for it, e.g. by reading stdin).
 */
export async function enterSh(o: Omit<EnterOptions, 'argv'>, script: string): Promise<EnterResult> {
  const out = capture();
  let child: Child;
  try {
    child = await enter({ ...o, argv: ['/bin/busybox', 'sh', '-c', script], stdio: [null, out.fd, 2] });
  } finally {
    void out.text();
  }
  const status = await child.exited;
  return { status: status.status, stdout: await out.text(), pid: child.pid };
}

/** Polls until `f()` is true (or throws after `ms`). */
export async function until(f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What this test process names the files and directories it makes. */
export const PREFIX = `nsk-ns-test-${process.pid}`;

/**
 * What this test file left behind since `before`: its children and fds,
 * and the mounts it could have made — those named with PREFIX. Other test
 * files and packages run at the same time in the same mount namespace and
 * mount their own things, so a plain before/after diff of all mounts would
 * blame them on us. (/run/netns itself stays a mount point, as after
 * `ip netns add`.)
 */
export function leftovers(before: HostState): HostState {
  const left = leftSince(before);
  return { ...left, mounts: left.mounts.filter((m) => m.includes(PREFIX)) };
}
