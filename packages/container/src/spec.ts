// The container's description, and its checks. Every bad option throws a
// ValidationError naming the field, before anything is created.
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, normalize } from 'node:path';
import { F, ValidationError, fcntl } from '@nsk/syscall';
import { checkHostname } from '@nsk/uts';
import { net, ns } from './lazy.ts';
import { MIN_MEMORY, isRoot } from './defaults.ts';
import { checkUserSpec } from './user.ts';
import { checkTty, type TerminalSize } from './pty.ts';
import type { ImageStoreLike } from './image.ts';

export interface ContainerSpec {
  /** Default: 12 random hex digits. Letters, digits, `_ . -`, up to 64. */
  name?: string;
  /** A directory, used as it is (podman --rootfs): writes land in it unless `readonlyRootfs`. */
  rootfs?: string;
  /** A ref in `store` (exclusive with `rootfs`): an overlay of its layers; its config gives defaults. */
  image?: string;
  store?: ImageStoreLike;
  /** Default: the image's Entrypoint + Cmd, else ['/bin/sh']. With an image, replaces Cmd (Entrypoint stays). */
  command?: readonly string[];
  /** `K=V`, merged over the image's Env. */
  env?: readonly string[];
  /** Absolute. Default: the image's WorkingDir, else `/`. */
  cwd?: string;
  /** "uid[:gid]" or a name from the rootfs's /etc/passwd (and group). Default: the image's User, else root. */
  user?: string;
  /** Default: the container's name (when it is a valid hostname). */
  hostname?: string;
  /** Default 'bridge' when root, 'none' when rootless. */
  network?: 'none' | 'host' | 'bridge';
  /** Bridge only: host port → container port, through a proxy listening on the host. */
  publish?: ReadonlyArray<{ host: number; container: number; protocol?: 'tcp' | 'udp' }>;
  /**
   * Bridge only: where "the host" side of the network is. `netns`: an open
   * fd of the network namespace that holds the bridge, the veths' host ends
   * and the published ports (default: this process's own); `stateDir`:
   * where leases live (default /var/lib/nsk/net); `bridge` (default nsk0);
   * `subnet` (default 10.88.0.0/16). Tests give a namespace of their own.
   */
  networkHost?: NetworkHost;
  volumes?: ReadonlyArray<{ host: string; container: string; readonly?: boolean }>;
  /** Bytes (memory.max / memory.limit_in_bytes). */
  memory?: number;
  /** CPUs, fractional: 0.5 = half of one (a CFS quota per 100 ms). */
  cpus?: number;
  pidsLimit?: number;
  /** "CAP_NET_ADMIN", "NET_ADMIN" or "ALL". */
  capAdd?: readonly string[];
  capDrop?: readonly string[];
  /** 'default' (default), 'unconfined', a profile file, or a parsed profile. */
  seccomp?: 'default' | 'unconfined' | string | object;
  /** A user namespace mapping the caller (or its subordinate ids). Default: true unless root. */
  rootless?: boolean;
  readonlyRootfs?: boolean;
  /** A new pty; Container.terminal is its master fd. `{ rows, columns }`: also its window size, set before the command runs. */
  tty?: boolean | { rows: number; columns: number };
  /** This process's fds that become the container's 0, 1, 2 (null: none). Default [0, 1, 2]. Ignored with `tty`. */
  stdio?: [number | null, number | null, number | null];
}

export type NetworkMode = 'none' | 'host' | 'bridge';

export interface NetworkHost { netns?: number; stateDir?: string; bridge?: string; subnet?: string }

export interface Publish { host: number; container: number; protocol: 'tcp' | 'udp' }
export interface VolumeSpec { host: string; container: string; readonly: boolean }

/** A spec with every field checked and put in one shape. */
export interface CheckedSpec {
  name: string;
  /** False when the name was made up here (a second start of the same Prepared makes a new one). */
  named: boolean;
  rootfs: string | undefined;
  image: string | undefined;
  store: ImageStoreLike | undefined;
  command: string[] | undefined;
  env: string[];
  cwd: string | undefined;
  user: string | undefined;
  hostname: string | undefined;
  network: NetworkMode;
  publish: Publish[];
  /** Only the fields given (network() takes its defaults for the rest). */
  networkHost: NetworkHost;
  volumes: VolumeSpec[];
  memory: number | undefined;
  cpus: number | undefined;
  pidsLimit: number | undefined;
  capAdd: unknown;
  capDrop: unknown;
  seccomp: unknown;
  rootless: boolean;
  readonlyRootfs: boolean;
  tty: boolean;
  /** The pty's first window size, when `tty` gave one. */
  ttySize: TerminalSize | null;
  stdio: [number | null, number | null, number | null];
}

const KEYS = new Set([
  'name', 'rootfs', 'image', 'store', 'command', 'env', 'cwd', 'user', 'hostname', 'network', 'publish', 'networkHost',
  'volumes', 'memory', 'cpus', 'pidsLimit', 'capAdd', 'capDrop', 'seccomp', 'rootless', 'readonlyRootfs', 'tty', 'stdio',
]);

export const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const fail = (field: string, message: string): never => { throw new ValidationError(field, message); };

function absolutePath(field: string, v: unknown): string {
  if (typeof v !== 'string' || v === '' || v.includes('\0')) fail(field, `must be a path: ${JSON.stringify(v)}`);
  if (!isAbsolute(v as string)) fail(field, `must be an absolute path: ${JSON.stringify(v)}`);
  const n = normalize(v as string);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function bool(field: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(field, `must be true or false, not ${JSON.stringify(v)}`);
  return v as boolean;
}

function strings(field: string, v: unknown): string[] {
  if (!Array.isArray(v)) fail(field, 'must be a list of strings');
  return (v as unknown[]).map((s, i) => {
    if (typeof s !== 'string' || s.includes('\0')) fail(`${field}[${i}]`, `must be a string without NUL bytes: ${JSON.stringify(s)}`);
    return s as string;
  });
}

function port(field: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 65535) fail(field, `must be a port, 1–65535: ${JSON.stringify(v)}`);
  return v as number;
}

function positive(field: string, v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(field, `must be ${what} > 0: ${JSON.stringify(v)}`);
  return v as number;
}

/** An open fd of a network namespace (ioctl_ns(2) NS_GET_NSTYPE says which kind it is). */
function netnsFd(field: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0) fail(field, `must be an open file descriptor of a network namespace: ${JSON.stringify(v)}`);
  let type: string;
  try {
    type = ns().inspectFile(`/proc/self/fd/${String(v)}`).type;
  } catch (err) {
    return fail(field, `fd ${String(v)} is not an open namespace file (${(err as Error).message})`);
  }
  if (type !== 'net') fail(field, `fd ${String(v)} is a ${type} namespace, not a network namespace`);
  return v as number;
}

function checkNetworkHost(v: unknown, network: NetworkMode): NetworkHost {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('networkHost', 'must be { netns?, stateDir?, bridge?, subnet? }');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['netns', 'stateDir', 'bridge', 'subnet'].includes(k)) fail(`networkHost.${k}`, 'unknown option');
  if (network !== 'bridge') fail('networkHost', `is where a bridge network's host side lives; network '${network}' has none`);
  const out: NetworkHost = {};
  if (o.netns !== undefined) out.netns = netnsFd('networkHost.netns', o.netns);
  if (o.stateDir !== undefined) out.stateDir = absolutePath('networkHost.stateDir', o.stateDir);
  if (o.bridge !== undefined) out.bridge = net().checkLinkName(o.bridge, 'networkHost.bridge');
  if (o.subnet !== undefined) {
    if (typeof o.subnet !== 'string') fail('networkHost.subnet', `must be address/prefix, as 10.88.0.0/16: ${JSON.stringify(o.subnet)}`);
    net().parseCidr(o.subnet as string, 'networkHost.subnet');
    out.subnet = o.subnet as string;
  }
  return out;
}

/** Checks `spec` and fills in what needs no rootfs or image to decide. */
export function checkSpec(spec: ContainerSpec, makeName: () => string): CheckedSpec {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) fail('spec', 'give an object');
  for (const k of Object.keys(spec)) if (!KEYS.has(k)) fail(k, 'unknown option');
  const s = spec as Record<string, unknown>;

  const named = s.name !== undefined;
  if (named && (typeof s.name !== 'string' || !NAME.test(s.name))) fail('name', `${JSON.stringify(s.name)}: letters, digits, "_", "." or "-", 1–64, starting with a letter or digit`);

  if (s.rootfs !== undefined && s.image !== undefined) fail('image', 'give either rootfs or image, not both');
  if (s.rootfs === undefined && s.image === undefined) fail('rootfs', 'give rootfs (a directory) or image (a ref in store)');
  let rootfs: string | undefined;
  if (s.rootfs !== undefined) {
    rootfs = absolutePath('rootfs', s.rootfs);
    if (!statSync(rootfs, { throwIfNoEntry: false })?.isDirectory()) fail('rootfs', `${rootfs} is not a directory`);
  }
  if (s.image !== undefined) {
    if (typeof s.image !== 'string' || s.image === '') fail('image', `must be an image reference: ${JSON.stringify(s.image)}`);
    const st = s.store as ImageStoreLike | undefined;
    if (!st || typeof st.get !== 'function' || typeof st.prepareRootfs !== 'function') fail('store', 'an image needs the ImageStore that holds it');
  } else if (s.store !== undefined) {
    fail('store', 'only with image');
  }

  let command: string[] | undefined;
  if (s.command !== undefined) {
    command = strings('command', s.command);
    if (command.length === 0 || command[0] === '') fail('command', 'give at least the program');
  }
  const env = s.env === undefined ? [] : strings('env', s.env);
  env.forEach((e, i) => { if (!/^[^=]+=/.test(e)) fail(`env[${i}]`, `not KEY=value: ${JSON.stringify(e)}`); });
  const cwd = s.cwd === undefined ? undefined : absolutePath('cwd', s.cwd);
  const user = s.user === undefined ? undefined : (checkUserSpec(s.user), s.user as string);
  const hostname = s.hostname === undefined ? undefined : checkHostname(s.hostname, 'hostname');

  const rootless = bool('rootless', s.rootless, !isRoot());
  if (!rootless && !isRoot()) fail('rootless', 'only root can run a container without a user namespace; leave rootless out or set it to true');
  const network = (s.network ?? (rootless ? 'none' : 'bridge')) as NetworkMode;
  if (network !== 'none' && network !== 'host' && network !== 'bridge') fail('network', `'none', 'host' or 'bridge', not ${JSON.stringify(s.network)}`);
  if (network === 'bridge' && rootless) fail('network', 'a bridge needs a veth on the host, which needs root (CAP_NET_ADMIN there); rootless containers use \'none\' or \'host\'');

  const publish: Publish[] = [];
  if (s.publish !== undefined) {
    if (!Array.isArray(s.publish)) fail('publish', 'must be a list of { host, container, protocol? }');
    (s.publish as unknown[]).forEach((p, i) => {
      const f = `publish[${i}]`;
      if (typeof p !== 'object' || p === null) fail(f, 'must be { host, container, protocol? }');
      const o = p as Record<string, unknown>;
      for (const k of Object.keys(o)) if (!['host', 'container', 'protocol'].includes(k)) fail(`${f}.${k}`, 'unknown option');
      const protocol = o.protocol ?? 'tcp';
      if (protocol !== 'tcp' && protocol !== 'udp') fail(`${f}.protocol`, `'tcp' or 'udp', not ${JSON.stringify(o.protocol)}`);
      publish.push({ host: port(`${f}.host`, o.host), container: port(`${f}.container`, o.container), protocol: protocol as 'tcp' | 'udp' });
    });
    if (publish.length && network !== 'bridge') fail('publish', `ports are published to a bridge network; network '${network}' ${network === 'host' ? 'uses the host’s ports already' : 'has nothing to publish'}`);
  }

  const networkHost = checkNetworkHost(s.networkHost, network);

  const volumes: VolumeSpec[] = [];
  if (s.volumes !== undefined) {
    if (!Array.isArray(s.volumes)) fail('volumes', 'must be a list of { host, container, readonly? }');
    (s.volumes as unknown[]).forEach((v, i) => {
      const f = `volumes[${i}]`;
      if (typeof v !== 'object' || v === null) fail(f, 'must be { host, container, readonly? }');
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) if (!['host', 'container', 'readonly'].includes(k)) fail(`${f}.${k}`, 'unknown option');
      const host = absolutePath(`${f}.host`, o.host);
      if (!existsSync(host)) fail(`${f}.host`, `${host} does not exist`);
      const container = absolutePath(`${f}.container`, o.container);
      if (container === '/') fail(`${f}.container`, 'cannot be the container’s /');
      volumes.push({ host, container, readonly: bool(`${f}.readonly`, o.readonly, false) });
    });
  }

  const memory = positive('memory', s.memory, 'a number of bytes');
  if (memory !== undefined && (!Number.isInteger(memory) || memory < MIN_MEMORY)) fail('memory', `a whole number of bytes, at least 6 MiB (${MIN_MEMORY}), as Docker: ${memory}`);
  const cpus = positive('cpus', s.cpus, 'a number of CPUs');
  if (cpus !== undefined && cpus < 0.01) fail('cpus', `at least 0.01 (a quota of 1 ms per 100 ms): ${cpus}`);
  if (cpus !== undefined && cpus > availableParallelism()) fail('cpus', `${cpus} is more than the ${availableParallelism()} CPUs this machine has`);
  const pidsLimit = positive('pidsLimit', s.pidsLimit, 'a whole number');
  if (pidsLimit !== undefined && !Number.isInteger(pidsLimit)) fail('pidsLimit', `must be a whole number: ${pidsLimit}`);

  const { tty, size: ttySize } = checkTty('tty', s.tty);
  let stdio: [number | null, number | null, number | null] = [0, 1, 2];
  if (s.stdio !== undefined) {
    if (!Array.isArray(s.stdio) || s.stdio.length !== 3) fail('stdio', 'must be [stdin, stdout, stderr], each an fd or null');
    stdio = (s.stdio as unknown[]).map((fd, i) => {
      if (fd === null) return null;
      if (!Number.isInteger(fd) || (fd as number) < 0) fail(`stdio[${i}]`, `not a file descriptor: ${JSON.stringify(fd)}`);
      try {
        fcntl(fd as number, F.GETFD);
      } catch {
        fail(`stdio[${i}]`, `fd ${String(fd)} is not open in this process`);
      }
      return fd as number;
    }) as [number | null, number | null, number | null];
  }

  return {
    name: named ? (s.name as string) : makeName(),
    named,
    rootfs,
    image: s.image as string | undefined,
    store: s.store as ImageStoreLike | undefined,
    command,
    env,
    cwd,
    user,
    hostname,
    network,
    publish,
    networkHost,
    volumes,
    memory,
    cpus,
    pidsLimit,
    capAdd: s.capAdd,
    capDrop: s.capDrop,
    seccomp: s.seccomp,
    rootless,
    readonlyRootfs: bool('readonlyRootfs', s.readonlyRootfs, false),
    tty,
    ttySize,
    stdio,
  };
}
