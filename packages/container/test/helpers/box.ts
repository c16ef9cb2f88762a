// Test helpers: run a container and capture what it prints, look at a
// running one from the host, and list what a container could leave behind.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { detectLayout } from '@nsk/cgroup';
import { capture, hostState, leftSince, type HostState } from '@nsk/testkit';
import { ownNetnsFd } from '@nsk/net';
import { O, close, pipe2 } from '@nsk/syscall';
import { start, type Container, type ContainerSpec, type ExitStatus } from '../../src/index.ts';

export interface Ran extends ExitStatus {
  stdout: string;
  stderr: string;
  name: string;
  pid: number;
}

/**
 * Starts `spec` with stdout and stderr captured (stdin: none unless given);
 * `during` runs while the container lives. Resolves once it has ended.
 */
export async function runBox(spec: ContainerSpec, during?: (c: Container) => unknown): Promise<Ran> {
  const out = capture();
  const err = capture();
  let c: Container;
  try {
    c = await start({ ...spec, stdio: [spec.stdio?.[0] ?? null, out.fd, err.fd] });
  } catch (e) {
    await Promise.all([out.text(), err.text()]);
    throw e;
  }
  const texts = Promise.all([out.text(), err.text()]);
  if (during) {
    try {
      await during(c);
    } catch (e) {
      c.kill('SIGKILL');
      await c.exited;
      await texts;
      throw e;
    }
  }
  const status = await c.exited;
  const [stdout, stderr] = await texts;
  return { ...status, stdout, stderr, name: c.name, pid: c.pid };
}

/** `/bin/sh -c script` in a container of `spec`. */
export function shIn(spec: ContainerSpec, script: string, during?: (c: Container) => unknown): Promise<Ran> {
  return runBox({ ...spec, command: ['/bin/sh', '-c', script] }, during);
}

/**
 * A container that waits on its stdin (`script`, then `read`), so the test
 * can look at it from the host; `release()` lets it finish.
 */
export async function held(spec: ContainerSpec, script = ':'): Promise<{ container: Container; done: Promise<Ran>; release(): void }> {
  const [r, w] = pipe2(O.CLOEXEC);
  let container!: Container;
  let ready!: () => void;
  const started = new Promise<void>((resolve) => { ready = resolve; });
  let released = false;
  const release = () => { if (!released) { released = true; close(w); } };
  const done = shIn({ ...spec, stdio: [r, null, null] }, `${script}; read x || true`, (c) => {
    container = c;
    close(r);
    ready();
    return c.exited;
  }).catch((e) => { close(r); release(); throw e; });
  await Promise.race([started, done]);
  return { container, done, release };
}

/** /proc/PID/status as key → value. */
export function status(pid: number | 'self'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** KEY: value lines of /proc/self/status printed by the container. */
export function statusLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** The capability bits of a hex mask as numbers. */
export function bits(hex: string): number[] {
  const n = BigInt(`0x${hex}`);
  const out: number[] = [];
  for (let i = 0; i < 64; i++) if ((n >> BigInt(i)) & 1n) out.push(i);
  return out;
}

export const KINDS = { cgroup: 'cgroup', ipc: 'ipc', mount: 'mnt', net: 'net', pid: 'pid', user: 'user', uts: 'uts' } as const;

/** ns inodes of a process by @nsk/clone kind. */
export function inodes(pid: number | 'self'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [kind, file] of Object.entries(KINDS)) out[kind] = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${file}`))![1]);
  return out;
}

/** The directories a cgroup named `nsk-<name>` would have in every hierarchy. */
export function cgroupDirs(name: string): string[] {
  const l = detectLayout();
  return [...l.v1.map((h) => `${h.mountPoint}/nsk-${name}`), ...(l.v2 ? [`${l.v2.mountPoint}/nsk-${name}`] : [])];
}

/** What a container named `name` may have left on the host: cgroup dirs, a lease, network files. */
export function traces(name: string, stateDir = '/var/lib/nsk/net'): string[] {
  const left = cgroupDirs(name).filter((d) => existsSync(d));
  const files = `${stateDir}/containers/${name}`;
  if (existsSync(files)) left.push(files);
  for (const bridge of existsSync(stateDir) ? readdirSync(stateDir) : []) {
    const leases = `${stateDir}/${bridge}/leases.json`;
    if (!existsSync(leases)) continue;
    const s = JSON.parse(readFileSync(leases, 'utf8')) as { leases?: Record<string, { id: string }> };
    for (const [ip, l] of Object.entries(s.leases ?? {})) if (l.id === name) left.push(`lease ${ip} in ${leases}`);
  }
  return left;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Host network links (names), from /sys/class/net. */
export function hostLinks(): string[] {
  return readdirSync('/sys/class/net').sort();
}

/**
 * Host ends of container veths (`vnsk…`) that no lease accounts for: left
 * behind. (A lease is taken before its veth is made and released after it is
 * deleted, so containers of other test files running now are not counted.)
 */
export function strayVeths(stateDir = '/var/lib/nsk/net'): string[] {
  const leased = new Set<string>();
  for (const bridge of existsSync(stateDir) ? readdirSync(stateDir) : []) {
    const file = `${stateDir}/${bridge}/leases.json`;
    if (!existsSync(file)) continue;
    const s = JSON.parse(readFileSync(file, 'utf8')) as { leases?: Record<string, { veth: string }> };
    for (const l of Object.values(s.leases ?? {})) leased.add(l.veth);
  }
  return hostLinks().filter((l) => l.startsWith('vnsk') && !leased.has(l));
}

/**
 * hostState() after the fds this process keeps for its whole life are open
 * (@nsk/net's own-namespace fd, taken on first use), so they are not
 * counted as left behind.
 */
export function baseline(): HostState {
  ownNetnsFd();
  return hostState();
}

/** What appeared since `before`: mounts, children, and fds shown with their targets. */
export function leftovers(before: HostState): { mounts: string[]; children: number[]; fds: string[] } {
  const left = leftSince(before);
  return {
    mounts: left.mounts,
    children: left.children,
    fds: left.fds.map((fd) => { try { return `${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`; } catch { return fd; } }),
  };
}
