// prepare(): everything checked and decided before anything exists — the
// user, the command and its PATH search, the environment, the capability
// set, the compiled seccomp filter, the network and cgroup features (which
// check ports, limits and delegation when they are made).
import { ValidationError, type NskError } from '@nsk/syscall';
import { explainSpawn } from '@nsk/clone';
import { cgroup, detectLayout, type CgroupFeature, type Layout, type Limits } from '@nsk/cgroup';
import type { NetworkFeature } from '@nsk/net';
import type { UserFeature } from '@nsk/user';
import { net as netPackage, user as userPackage } from './lazy.ts';
import { checkHostname } from '@nsk/uts';
import { CPU_PERIOD_US, DEFAULT_PATH, envValue, mergeEnv, randomName } from './defaults.ts';
import { chooseCapabilities, type CapabilityChoice, type Identity } from './capabilities.ts';
import { chooseSeccomp, type SeccompChoice } from './seccomp.ts';
import { checkSpec, type CheckedSpec, type ContainerSpec } from './spec.ts';
import { imageCommand, imageConfig, type ImageConfigLike } from './image.ts';
import { resolveUser, type ResolvedUser } from './user.ts';
import { searchPath, type ProgramSearch } from './path-search.ts';
import { kindInRoot } from './read-in-root.ts';
import { composeSpawn, type RootfsPaths } from './compose.ts';
import { ContainerCgroups } from './cgroups.ts';

let layout: Layout | undefined;
/** The host's cgroup hierarchies, read once per process (mounts of cgroupfs do not come and go). */
function cgroupLayout(): Layout {
  return (layout ??= detectLayout());
}

/** The parts of a start that are decided now and hold for one container. */
export interface Decided {
  argv: string[];
  search: ProgramSearch;
  env: string[];
  cwd: string;
  hostname: string;
  identity: Identity;
  /** Set when the user's name must still be read from an image's files. */
  userSpec: string | undefined;
  capabilities: CapabilityChoice;
  seccomp: SeccompChoice;
  limits: Limits | null;
  image: { id: string; config: ImageConfigLike } | null;
}

/** Features made for one container (they hold what they create outside it). */
export interface SingleUse {
  network: NetworkFeature | null;
  /** Rootful: the groups this process makes before clone and the child joins (cgroups.ts). */
  groups: ContainerCgroups | null;
  /** Rootless with limits: @nsk/cgroup's Feature, in a delegated subtree. */
  cgroup: CgroupFeature | null;
  user: UserFeature | null;
}

/** A hostname from a container name: `_` is not allowed in one (hostname(7)). */
function hostnameOf(name: string): string {
  const h = name.replace(/_/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  try {
    return checkHostname(h);
  } catch {
    return 'nsk';
  }
}

function limitsOf(c: CheckedSpec): Limits | null {
  const l: Limits = {};
  if (c.memory !== undefined) l.memory = { max: c.memory };
  if (c.cpus !== undefined) l.cpu = { quota: Math.round(c.cpus * CPU_PERIOD_US), period: CPU_PERIOD_US };
  if (c.pidsLimit !== undefined) l.pids = { max: c.pidsLimit };
  return Object.keys(l).length ? l : null;
}

/** The spec's field a cgroup error is about: its limit's, else the first limit given. */
function limitField(c: CheckedSpec, err: unknown): string {
  const text = `${(err as ValidationError).field ?? ''} ${(err as Error).message ?? ''}`;
  if (c.memory !== undefined && /memory/.test(text)) return 'memory';
  if (c.cpus !== undefined && /\bcpu/.test(text)) return 'cpus';
  if (c.pidsLimit !== undefined && /pids/.test(text)) return 'pidsLimit';
  return c.memory !== undefined ? 'memory' : c.cpus !== undefined ? 'cpus' : 'pidsLimit';
}

/** Re-throws a feature's ValidationError under the container's field names. */
function rename(err: unknown, field: string): never {
  if (err instanceof ValidationError) throw new ValidationError(`${field}.${err.field}`, err.message.slice(err.field.length + 2));
  throw err;
}

/** The user namespace of a rootless container: the caller as root, and its subordinate ids when it has some. */
function rootlessUser(): UserFeature {
  const { currentCaller, findMapper, user: userFeature } = userPackage();
  const caller = currentCaller();
  const canSub = (kind: 'uid' | 'gid') => (kind === 'uid' ? caller.subordinate.uids : caller.subordinate.gids).length > 0 && findMapper(kind === 'uid' ? 'newuidmap' : 'newgidmap') !== null;
  try {
    return userFeature({ uidMap: canSub('uid') ? 'subordinate' : 'self', gidMap: canSub('gid') ? 'subordinate' : 'self', uid: 0, gid: 0 }, caller);
  } catch (err) {
    return rename(err, 'rootless');
  }
}

/** True when `id` is mapped inside the namespace (so setresuid/setresgid to it can work). */
function mapped(map: ReadonlyArray<{ inside: number; count: number }>, id: number): boolean {
  return map.some((r) => id >= r.inside && id < r.inside + r.count);
}

/** Checks the identity against a rootless namespace's maps; groups left out when setgroups is denied. */
export function fitIdentity(u: ResolvedUser, ns: UserFeature | null, field: string): Identity {
  if (!ns) return { uid: u.uid, gid: u.gid, groups: u.groups };
  const m = ns.mapping;
  if (!mapped(m.uidMap, u.uid)) throw new ValidationError(field, `uid ${u.uid} is not mapped in the rootless user namespace (only ${m.uidMap.map((r) => `${r.inside}–${r.inside + r.count - 1}`).join(', ')}; subordinate ids in /etc/subuid give more)`);
  if (!mapped(m.gidMap, u.gid)) throw new ValidationError(field, `gid ${u.gid} is not mapped in the rootless user namespace (only ${m.gidMap.map((r) => `${r.inside}–${r.inside + r.count - 1}`).join(', ')})`);
  if (m.setgroups === 'deny') return { uid: u.uid, gid: u.gid, groups: null };
  return { uid: u.uid, gid: u.gid, groups: u.groups.filter((g) => mapped(m.gidMap, g)) };
}

/** networkHost for explain(): what stands in for the host's network, network()'s defaults filled in. */
function describeNetworkHost(h: CheckedSpec['networkHost']): string {
  const { DEFAULT_BRIDGE, DEFAULT_STATE_DIR, DEFAULT_SUBNET } = netPackage();
  return [
    h.netns !== undefined ? `network namespace of fd ${h.netns}` : 'this process’s network namespace',
    `bridge ${h.bridge ?? DEFAULT_BRIDGE}`,
    `subnet ${h.subnet ?? DEFAULT_SUBNET}`,
    `leases in ${h.stateDir ?? DEFAULT_STATE_DIR}`,
  ].join(', ');
}

/** The checked spec, what was decided, and the features a start will use. */
export class Prepared {
  readonly spec: Readonly<ContainerSpec>;
  readonly checked: CheckedSpec;
  readonly decided: Decided;
  /** For a rootfs directory: which of /etc/hosts, /etc/resolv.conf it has (bound over only if present). */
  readonly etcTargets: readonly string[];
  #fresh: SingleUse | null;
  /** The features as made by prepare(), kept for explain() after a start took them. */
  readonly #planned: SingleUse;

  constructor(spec: ContainerSpec, checked: CheckedSpec, decided: Decided, fresh: SingleUse, etcTargets: readonly string[]) {
    this.spec = Object.freeze({ ...spec });
    this.checked = checked;
    this.decided = decided;
    this.#fresh = fresh;
    this.#planned = fresh;
    this.etcTargets = etcTargets;
  }

  get name(): string {
    return this.checked.name;
  }

  /**
   * The features made for one container, once. A second start of the same
   * Prepared prepares the spec again (a fresh name unless one was given).
   */
  take(): { prepared: Prepared; single: SingleUse } {
    if (this.#fresh) {
      const single = this.#fresh;
      this.#fresh = null;
      return { prepared: this, single };
    }
    return prepare(this.spec as ContainerSpec).take();
  }

  /**
   * The single-use features without taking them (explain only runs plan(),
   * which touches nothing). After a start they are that container's: its
   * name, and no second probe of ports its own proxy now holds.
   */
  peek(): SingleUse {
    return this.#planned;
  }

  /**
   * The whole plan, in order: the clone flags, what the parent does while
   * the child waits, and each system call of the child up to execve.
   * An image's overlay directories are made for the explanation and removed.
   */
  explain(): string {
    const c = this.checked;
    const single = this.peek();
    let paths: RootfsPaths;
    let cleanup = () => {};
    if (c.image !== undefined) {
      const r = c.store!.prepareRootfs(c.image, `${c.name}-explain`);
      cleanup = () => r.cleanup();
      paths = { path: r.target, overlay: { lower: r.lower, upper: r.upper, work: r.work }, lower: r.lower };
    } else {
      paths = { path: c.rootfs!, overlay: undefined, lower: [c.rootfs!] };
    }
    try {
      const { options, identity } = composeSpawn(this, single, paths, c.tty ? { master: -1, slavePath: '/dev/pts/N' } : null);
      const head = [
        `container ${c.name}: ${c.image !== undefined ? `image ${c.image}` : `rootfs ${c.rootfs}`}, ${c.rootless ? 'rootless' : 'rootful'}, network ${c.network}`,
        ...(Object.keys(c.networkHost).length ? [`network host side: ${describeNetworkHost(c.networkHost)}`] : []),
        ...(single.groups ? [`before clone: make cgroup ${single.groups.path} (${single.groups.dirs.join(', ')})${this.decided.limits ? ` with ${JSON.stringify(this.decided.limits)}` : ''}`] : []),
        `runs ${JSON.stringify(this.decided.argv)} as ${identity.uid}:${identity.gid} in ${this.decided.cwd}`,
        `capabilities: ${this.decided.capabilities.keep.join(' ') || 'none'}; seccomp: ${this.decided.seccomp.filter ? `${this.decided.seccomp.label.startsWith('{') ? 'a profile' : this.decided.seccomp.label} (${this.decided.seccomp.filter.length} instructions)` : 'unconfined'}`,
        '',
      ];
      return [...head, explainSpawn(options)].join('\n');
    } finally {
      cleanup();
    }
  }
}

/**
 * Checks `spec` and decides everything that can be decided before the
 * container exists. Creates nothing; throws ValidationError naming the
 * field for every bad option.
 */
export function prepare(spec: ContainerSpec): Prepared {
  const c = checkSpec(spec, randomName);
  const image = c.image !== undefined ? imageConfig(c.store!, c.image) : null;
  const config = image?.config ?? null;

  const hostname = c.hostname ?? hostnameOf(c.name);
  const argv = imageCommand(config, c.command);

  // The user: from the spec, else the image's User, else root. Names are
  // read from the rootfs's own files; an image's are read at start, once
  // its layers are known.
  const userSpec = c.user ?? (config?.user || undefined);
  const ns = c.rootless ? rootlessUser() : null;
  let resolved: ResolvedUser = { uid: 0, gid: 0, groups: [], home: '/root' };
  let pending: string | undefined;
  if (userSpec !== undefined) {
    if (c.rootfs !== undefined) resolved = resolveUser(userSpec, [c.rootfs], c.user !== undefined ? 'user' : 'image.user');
    else pending = userSpec;
  }
  const identity = fitIdentity(resolved, ns, c.user !== undefined ? 'user' : 'image.user');

  const env = mergeEnv(
    [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`, ...(c.tty ? ['TERM=xterm'] : [])],
    config?.env,
    c.env,
  );
  if (envValue(env, 'HOME') === undefined && pending === undefined) env.push(`HOME=${resolved.home}`);
  const search = searchPath(argv[0]!, envValue(env, 'PATH'), c.command !== undefined ? 'command' : 'image.cmd');

  const cwd = c.cwd ?? (config?.workingDir || '/');
  if (c.rootfs !== undefined && cwd !== '/') {
    const kind = kindInRoot(c.rootfs, cwd);
    if (kind !== 'directory') throw new ValidationError(c.cwd !== undefined ? 'cwd' : 'image.workingDir', `${cwd} is ${kind === null ? 'missing' : 'not a directory'} in ${c.rootfs}`);
  }

  const capabilities = chooseCapabilities(c.capAdd, c.capDrop);
  const seccomp = chooseSeccomp(c.seccomp, capabilities.keep);

  const limits = limitsOf(c);
  let cg: CgroupFeature | null = null;
  let groups: ContainerCgroups | null = null;
  if (!c.rootless || limits) {
    try {
      if (c.rootless) cg = cgroup({ name: `nsk-${c.name}`, limits: limits!, layout: cgroupLayout() });
      else groups = ContainerCgroups.prepare(`nsk-${c.name}`, limits, cgroupLayout());
    } catch (err) {
      // A limit out of range, a controller this host lacks, or (rootless) no
      // delegated cgroup v2 subtree to make the group in (cgroups(7)).
      const e = err as NskError;
      const why = c.rootless ? 'a rootless container gets cgroup limits only in a delegated cgroup v2 subtree: ' : '';
      throw Object.assign(new ValidationError(limitField(c, err), `${why}${e.message}`), { cause: err });
    }
  }

  // 'none' needs no @nsk/net feature: the child brings lo up itself
  // (loopback.ts); 'host' shares this process's namespace.
  let net: NetworkFeature | null = null;
  if (c.network === 'bridge') {
    try {
      const h = c.networkHost;
      net = netPackage().network({
        mode: 'bridge',
        id: c.name,
        hostname,
        // networkHost: another namespace plays the host (its bridge, veth
        // ends and published ports), with leases in a state dir of its own.
        ...(h.netns !== undefined ? { hostNetns: h.netns } : {}),
        ...(h.stateDir !== undefined ? { stateDir: h.stateDir } : {}),
        ...(h.bridge !== undefined ? { bridge: h.bridge } : {}),
        ...(h.subnet !== undefined ? { subnet: h.subnet } : {}),
        publish: c.publish.map((p) => ({ hostPort: p.host, containerPort: p.container, protocol: p.protocol })),
      });
    } catch (err) {
      // network() names its fields as its own options; `publish[i]` is ours too.
      if (err instanceof ValidationError && err.field.startsWith('publish')) throw err;
      // The subnet's gateway and the like are networkHost's when it was given.
      if (err instanceof ValidationError && Object.keys(c.networkHost).length) rename(err, 'networkHost');
      rename(err, 'network');
    }
  }

  // The rootfs's own /etc/hosts and /etc/resolv.conf are bound over when it
  // has them; a rootfs directory is never written.
  const etcTargets = net && c.rootfs !== undefined ? ['/etc/hosts', '/etc/resolv.conf'].filter((p) => kindInRoot(c.rootfs!, p) === 'file') : [];

  const decided: Decided = {
    argv, search, env, cwd, hostname, identity, userSpec: pending, capabilities, seccomp, limits, image,
  };
  return new Prepared(spec, c, decided, { network: net, groups, cgroup: cg, user: ns }, etcTargets);
}
