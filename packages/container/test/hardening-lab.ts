// The escape tests' laboratory: a busybox rootfs with the probe (see
// hardening-payload.ts) in /payload, a host-only directory beside it, and
// three ways to run an attack:
//   inNsk  — in an @nsk/container container, its defaults plus `spec`;
//   bare   — the control: the same rootfs through @nsk/clone and @nsk/mount
//            alone, with only the isolation a test names (no seccomp, every
//            capability, no masked paths unless asked), to show the attack
//            works when the defence under test is missing;
//   rootless — the same scenario run as nobody (uid 65534) through
//            testkit's runAsUser, where the container is rootless.
// A rootful container's bridge has a namespace of the lab's own as its
// host (networkHost): the machine's network is never touched.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfs } from '@nsk/rootfs';
import { rootfs, type RootfsOptions } from '@nsk/mount';
import { user } from '@nsk/user';
import type { Feature, NamespaceName, Plan } from '@nsk/clone';
import { capture, run as runChild, runAsUser, type RunResult } from '@nsk/testkit';
import { start, type Container, type ContainerSpec } from '../src/index.ts';
import { buildProbe } from './hardening-payload.ts';
import { standInHost, type StandInHost } from './helpers/stand-in-host.ts';

/** Paths of the lab, all under one host directory every user may read. */
export interface Lab {
  /** The host directory holding everything below (0755). */
  dir: string;
  /** The container's rootfs: busybox, /payload/probe, /payload/suid-probe, /mnt, /vol. */
  rootfs: string;
  /** A host directory bound at /vol in the shocker test. */
  vol: string;
  /** A file only the host can see: found from inside means escaped. */
  secret: string;
  /** The probe on the host (to compute file handles). */
  probe: string;
  /** Root's lab only: the network namespace and state directory that play the host for bridge containers. */
  host?: StandInHost;
}

export const PROBE = '/payload/probe';
export const SUID_PROBE = '/payload/suid-probe';
export const ENV = ['PATH=/bin:/sbin:/usr/bin:/usr/sbin'];

/** Builds the lab (once per process; removed at exit). */
export function makeLab(): Lab {
  const dir = mkdtempSync('/tmp/nsk-hardening-');
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const root = busyboxRootfs(join(dir, 'rootfs'));
  for (const d of ['payload', 'mnt', 'vol']) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
  const built = buildProbe(join(root, 'payload'));
  const vol = join(dir, 'vol');
  mkdirSync(vol, { mode: 0o755 });
  const secret = join(dir, 'host-secret');
  writeFileSync(secret, 'only the host sees this\n', { mode: 0o644 });
  const lab: Lab = { dir, rootfs: root, vol, secret, probe: built.probe };
  if (process.getuid?.() === 0) {
    const host = standInHost();
    process.once('exit', () => host.done());
    lab.host = host;
  }
  return lab;
}

/** A lab built elsewhere (by the root test process, for a rootless fixture). */
export function labAt(dir: string): Lab {
  const lab = { dir, rootfs: join(dir, 'rootfs'), vol: join(dir, 'vol'), secret: join(dir, 'host-secret'), probe: join(dir, 'rootfs', PROBE) };
  if (!existsSync(lab.probe)) throw new Error(`no lab at ${dir}`);
  return lab;
}

export interface Outcome {
  status: number;
  stdout: string;
  stderr: string;
  /** What the host saw while it ran (when asked). */
  seen?: unknown;
}

/**
 * `argv` in an nsk container over the lab's rootfs: nsk's defaults, then
 * `spec`. `during(container)` looks from the host while it runs; the
 * container is killed if that throws.
 */
export async function inNsk(lab: Lab, rootless: boolean, spec: Partial<ContainerSpec>, argv: string[], during?: (c: Container) => unknown | Promise<unknown>): Promise<Outcome> {
  const out = capture();
  const err = capture();
  let c: Container;
  // A bridge (root's default) gets the lab's stand-in host.
  const bridge = !rootless && (spec.network ?? 'bridge') === 'bridge' && lab.host && !spec.networkHost;
  try {
    c = await start({
      rootfs: lab.rootfs, env: ENV, ...(rootless ? { rootless: true } : {}), ...(bridge ? { networkHost: lab.host!.networkHost } : {}), ...spec,
      command: argv, stdio: [null, out.fd, err.fd],
    });
  } catch (e) {
    await Promise.all([out.text(), err.text()]);
    throw e;
  }
  void out.text();
  void err.text();
  let seen: unknown;
  if (during) {
    try {
      seen = await during(c);
    } catch (e) {
      c.kill('SIGKILL');
      await c.exited;
      throw e;
    }
  }
  const s = await c.exited;
  return { status: s.status, stdout: await out.text(), stderr: await err.text(), ...(seen === undefined ? {} : { seen }) };
}

export interface BareOptions {
  /** Namespaces besides mount (and user, when rootless). */
  namespaces?: NamespaceName[];
  /** Over the lab rootfs: no masked or read-only paths unless given. */
  rootfs?: Partial<RootfsOptions>;
  features?: Feature[];
  plan?: Plan;
}

/**
 * The control: `argv` over the lab's rootfs with nothing but a mount
 * namespace (and a user namespace mapping the caller to root, when
 * rootless): every capability, no seccomp, no_new_privs off, /proc and /sys
 * unmasked and writable, the host's pids, network and cgroups.
 */
export async function bare(lab: Lab, rootless: boolean, argv: string[], o: BareOptions = {}, during?: (pid: number) => unknown | Promise<unknown>): Promise<Outcome> {
  const ns = o.namespaces ?? [];
  // A user namespace may mount proc only for a pid namespace it owns, sysfs
  // only for a network namespace it owns, mqueue only for an IPC namespace
  // it owns (proc(5), sysfs(5), mq_overview(7)): without those, none.
  const owned = rootless ? { proc: ns.includes('pid'), sys: ns.includes('net') ? 'sysfs' as const : false as const, mqueue: ns.includes('ipc') } : {};
  const features: Feature[] = [
    ...(rootless ? [user()] : []),
    rootfs({ path: lab.rootfs, masked: [], readonlyPaths: [], ...owned, ...o.rootfs }),
    ...(o.features ?? []),
  ];
  let seen: unknown;
  const r: RunResult = await runChild({ argv, env: ENV, namespaces: ns, features, ...(o.plan ? { plan: o.plan } : {}) }, during ? async (child) => { seen = await during(child.pid); } : undefined);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ...(seen === undefined ? {} : { seen }) };
}

/** `sh -c script` argv. */
export const sh = (script: string): string[] => ['/bin/sh', '-c', script];

/** The capability mask (as /proc/PID/status prints it) of `names`. */
export function capMask(names: readonly string[]): string {
  const bits: Record<string, number> = {
    CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7,
    CAP_SETPCAP: 8, CAP_LINUX_IMMUTABLE: 9, CAP_NET_BIND_SERVICE: 10, CAP_NET_BROADCAST: 11, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13,
    CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15, CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17, CAP_SYS_CHROOT: 18, CAP_SYS_PTRACE: 19, CAP_SYS_PACCT: 20,
    CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23, CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25, CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27,
    CAP_LEASE: 28, CAP_AUDIT_WRITE: 29, CAP_AUDIT_CONTROL: 30, CAP_SETFCAP: 31, CAP_MAC_OVERRIDE: 32, CAP_MAC_ADMIN: 33, CAP_SYSLOG: 34,
    CAP_WAKE_ALARM: 35, CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37, CAP_PERFMON: 38, CAP_BPF: 39, CAP_CHECKPOINT_RESTORE: 40,
  };
  let m = 0n;
  for (const n of names) {
    const b = bits[n];
    if (b === undefined) throw new Error(`unknown capability ${n}`);
    m |= 1n << BigInt(b);
  }
  return m.toString(16).padStart(16, '0');
}

/** Whether capability bit `bit` is set in a /proc/PID/status mask. */
export const hasCap = (mask: string, bit: number): boolean => ((BigInt(`0x${mask}`) >> BigInt(bit)) & 1n) === 1n;

/** `Key:\tvalue` lines of a /proc/PID/status text (as printed by the container). */
export function statusFields(text: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_]+):\s*(.*)$/.exec(line);
    if (m) r[m[1]!] = m[2]!.trim();
  }
  return r;
}

/** The host's root filesystem's block device, "major:minor" (from our own mountinfo). */
export function rootDevice(): { major: number; minor: number } {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === '/')!;
  const [major, minor] = line.split(' ')[2]!.split(':').map(Number) as [number, number];
  if (major !== 0) return { major, minor };
  // An overlay or virtual root (major 0): take the first disk the kernel lists.
  const disk = readdirSync('/sys/dev/block').map((d) => d.split(':').map(Number) as [number, number]).find(([ma]) => ma !== 7 /* loop */ && ma !== 1 /* ram */);
  if (!disk) throw new Error('no block device on this host to attack');
  return { major: disk[0], minor: disk[1] };
}

const FIXTURE = new URL('./hardening-fixture.ts', import.meta.url).pathname;

/** Runs scenario `name` as nobody, with rootless containers, over `lab`; resolves with what it returned. */
export async function asNobody<T>(lab: Lab, name: string, arg: Record<string, unknown> = {}): Promise<T> {
  const r = await runAsUser({ script: FIXTURE, args: [name, lab.dir, JSON.stringify(arg)], timeout: 60_000 });
  if (r.status !== 0) throw new Error(`rootless scenario ${name} ${r.timedOut ? 'timed out' : `exited ${r.status}`}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}
