// `nsk run`'s flags, turned into a ContainerSpec. Only the shape of each
// value is checked here (a size, a port, K=V); @nsk/container's prepare()
// checks what the values mean, also before anything is created.
import { isAbsolute, resolve } from 'node:path';
import type { ContainerSpec } from '@nsk/container';
import { ValidationError } from '@nsk/syscall';

export interface RunValues {
  rootfs?: string;
  name?: string;
  detach?: boolean;
  rm?: boolean;
  interactive?: boolean;
  tty?: boolean;
  env?: string[];
  workdir?: string;
  user?: string;
  volume?: string[];
  hostname?: string;
  net?: string;
  publish?: string[];
  memory?: string;
  cpus?: string;
  'pids-limit'?: string;
  'cap-add'?: string[];
  'cap-drop'?: string[];
  seccomp?: string;
  rootless?: boolean;
  'read-only'?: boolean;
  explain?: boolean;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** docker's sizes: `64m`, `1g`, `512k`, `1048576` (binary units, case-insensitive, optional trailing b). */
export function parseSize(field: string, s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(s.trim());
  if (!m) throw new ValidationError(field, `${JSON.stringify(s)} is not a size (like 64m, 1g, 512k or a number of bytes)`);
  const n = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (n <= 0) throw new ValidationError(field, `${JSON.stringify(s)} must be more than 0 bytes`);
  return n;
}

/** `K=V`, or `K` alone: the value of K in nsk's own environment (docker's `-e K`). */
export function parseEnv(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of list) {
    if (e.includes('=')) {
      if (e.startsWith('=')) throw new ValidationError('env', `${JSON.stringify(e)} has no name before "="`);
      out.push(e);
    } else if (/^[^\s=]+$/.test(e)) {
      const v = process.env[e];
      if (v !== undefined) out.push(`${e}=${v}`);
    } else {
      throw new ValidationError('env', `${JSON.stringify(e)} is not K=V`);
    }
  }
  return out;
}

/** A host path, absolute: `./data` is resolved against the current directory (there are no named volumes). */
function hostPath(field: string, p: string): string {
  if (isAbsolute(p)) return p;
  if (p === '.' || p.startsWith('./') || p.startsWith('../')) return resolve(p);
  throw new ValidationError(field, `${JSON.stringify(p)} is not a path (named volumes are not supported: give /abs/path or ./rel/path)`);
}

/** `HOST:CTR`, `HOST:CTR:ro`, `HOST:CTR:rw`. */
export function parseVolume(s: string): { host: string; container: string; readonly?: boolean } {
  const parts = s.split(':');
  const mode = parts.length === 3 ? parts[2] : undefined;
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1] || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw new ValidationError('volume', `${JSON.stringify(s)} is not HOST:CONTAINER[:ro|rw]`);
  }
  if (!isAbsolute(parts[1])) throw new ValidationError('volume', `${JSON.stringify(s)}: the container path must be absolute`);
  return { host: hostPath('volume', parts[0]), container: parts[1], ...(mode === 'ro' ? { readonly: true } : {}) };
}

/** `HOST:CTR`, `HOST:CTR/udp`, `HOST:CTR/tcp`. */
export function parsePublish(s: string): { host: number; container: number; protocol: 'tcp' | 'udp' } {
  const m = /^(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(s);
  const host = Number(m?.[1]);
  const container = Number(m?.[2]);
  if (!m || host < 1 || host > 65535 || container < 1 || container > 65535) {
    throw new ValidationError('publish', `${JSON.stringify(s)} is not HOSTPORT:CONTAINERPORT[/tcp|/udp] with ports 1–65535`);
  }
  return { host, container, protocol: (m[3] ?? 'tcp') as 'tcp' | 'udp' };
}

export function parseCpus(s: string): number {
  const n = Number(s);
  if (!/^\d*\.?\d+$/.test(s) || !(n > 0)) throw new ValidationError('cpus', `${JSON.stringify(s)} is not a number of CPUs above 0 (like 0.5 or 2)`);
  return n;
}

export function parsePidsLimit(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1) throw new ValidationError('pids-limit', `${JSON.stringify(s)} is not a number of processes (1 or more)`);
  return n;
}

/** `UID`, `UID:GID` or a user name of the rootfs's /etc/passwd. */
export function checkUser(s: string): string {
  if (!/^[A-Za-z0-9_.][A-Za-z0-9_.-]*(?::[A-Za-z0-9_.][A-Za-z0-9_.-]*)?$/.test(s)) throw new ValidationError('user', `${JSON.stringify(s)} is not UID[:GID] or a user name`);
  return s;
}

const NETWORKS = ['none', 'host', 'bridge'] as const;

/**
 * The spec for `nsk run`'s values; `image` (a positional) and `rootfs`
 * exclude each other. The caller adds the root (the default busybox one)
 * and the store.
 */
export function specFromFlags(v: RunValues, command: string[], image: string | undefined): ContainerSpec {
  if (image !== undefined && v.rootfs !== undefined) throw new ValidationError('rootfs', `give --rootfs DIR or an IMAGE, not both (got --rootfs ${v.rootfs} and ${image})`);
  if (v.detach && v.interactive) throw new ValidationError('interactive', 'a detached container (-d) has no stdin to attach');
  const spec: ContainerSpec = {};
  if (v.name !== undefined) spec.name = v.name;
  if (v.rootfs !== undefined) spec.rootfs = resolve(v.rootfs);
  if (image !== undefined) spec.image = image;
  if (command.length > 0) spec.command = command;
  if (v.env) spec.env = parseEnv(v.env);
  if (v.workdir !== undefined) {
    if (!isAbsolute(v.workdir)) throw new ValidationError('workdir', `${JSON.stringify(v.workdir)} must be an absolute path in the container`);
    spec.cwd = v.workdir;
  }
  if (v.user !== undefined) spec.user = checkUser(v.user);
  if (v.hostname !== undefined) spec.hostname = v.hostname;
  if (v.net !== undefined) {
    if (!(NETWORKS as readonly string[]).includes(v.net)) throw new ValidationError('net', `${JSON.stringify(v.net)} is not one of ${NETWORKS.join(', ')}`);
    spec.network = v.net as (typeof NETWORKS)[number];
  }
  if (v.publish) spec.publish = v.publish.map(parsePublish);
  if (v.volume) spec.volumes = v.volume.map(parseVolume);
  if (v.memory !== undefined) spec.memory = parseSize('memory', v.memory);
  if (v.cpus !== undefined) spec.cpus = parseCpus(v.cpus);
  if (v['pids-limit'] !== undefined) spec.pidsLimit = parsePidsLimit(v['pids-limit']);
  if (v['cap-add']) spec.capAdd = v['cap-add'];
  if (v['cap-drop']) spec.capDrop = v['cap-drop'];
  if (v.seccomp !== undefined) spec.seccomp = v.seccomp === 'default' || v.seccomp === 'unconfined' ? v.seccomp : resolve(v.seccomp);
  if (v.rootless) spec.rootless = true;
  if (v['read-only']) spec.readonlyRootfs = true;
  if (v.tty) spec.tty = true;
  return spec;
}
