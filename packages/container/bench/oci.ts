// OCI bundles for crun and runc, written here (not by `crun spec`) so that
// both runtimes get exactly what an nsk container gets by default: the same
// busybox rootfs read-only, the same namespaces, Docker's 14 capabilities,
// no_new_privs, runc's masked and read-only paths, and — when asked — nsk's
// own default seccomp profile, resolved as Docker resolves it and handed to
// the runtime in the OCI form (so each compiles it itself, with libseccomp,
// on every start, as it does for a Docker container).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CAPABILITIES, SCMP_ACTIONS, defaultProfile, resolveProfile, OPERATORS, type Action } from '@nsk/seccomp';
import { MASKED_PATHS, READONLY_PATHS } from '@nsk/mount';
import { CLONE, MNT, MS, mount, umount2, unshare } from '@nsk/syscall';

export const RUNTIMES = ['crun', 'runc'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** Installs Debian's crun and runc if missing (idempotent, quiet). */
export function ensureRuntimes(): Record<Runtime, string> {
  const find = (name: string) => ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/bin', '/sbin'].map((d) => join(d, name)).find((p) => existsSync(p));
  const missing = RUNTIMES.filter((r) => !find(r));
  if (missing.length) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      install();
    } catch {
      // A fresh machine may have no package lists yet.
      execFileSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      install();
    }
  }
  return { crun: find('crun')!, runc: find('runc')! };
}

const ACTION_NAME = new Map<string, string>(Object.entries(SCMP_ACTIONS).filter(([n]) => n !== 'SCMP_ACT_KILL').map(([n, k]) => [k, n]));
const OP_NAME = new Map<string, string>(Object.entries(OPERATORS).map(([n, op]) => [op, n]));

const actionName = (a: Action) => ACTION_NAME.get(a.kind)!;

/**
 * nsk's default profile as an OCI `linux.seccomp` object: Docker's
 * includes/excludes resolved for `capabilities` on this machine by
 * @nsk/seccomp's own resolver, so the rule set is the one nsk installs.
 */
export function ociSeccomp(capabilities: readonly string[] = DEFAULT_CAPABILITIES): object {
  const policy = resolveProfile(defaultProfile(), { capabilities });
  const arch = { x86_64: 'SCMP_ARCH_X86_64', aarch64: 'SCMP_ARCH_AARCH64' } as const;
  return {
    defaultAction: actionName(policy.defaultAction),
    ...(policy.defaultAction.kind === 'errno' ? { defaultErrnoRet: policy.defaultAction.data } : {}),
    architectures: policy.arches.map((a) => arch[a]),
    syscalls: policy.rules.map((r) => ({
      names: [r.name],
      action: actionName(r.action),
      ...(r.action.kind === 'errno' ? { errnoRet: r.action.data } : {}),
      ...(r.conditions.length ? { args: r.conditions.map((c) => ({ index: c.index, value: Number(c.value), valueTwo: Number(c.valueTwo), op: OP_NAME.get(c.op)! })) } : {}),
    })),
  };
}

export interface BundleOptions {
  /** The rootfs directory (absolute), used read-only. */
  rootfs: string;
  args: string[];
  /** Install nsk's default seccomp profile (Docker's way). Default true. */
  seccomp?: boolean;
  hostname?: string;
}

/** config.json for a container like nsk's default one with `--net none`: its own (empty) network namespace, nothing configured in it. */
export function ociConfig(o: BundleOptions): object {
  const caps = [...DEFAULT_CAPABILITIES];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: o.args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      noNewPrivileges: true,
    },
    root: { path: o.rootfs, readonly: true },
    hostname: o.hostname ?? 'bench',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
    ],
    linux: {
      namespaces: ['pid', 'mount', 'uts', 'ipc', 'network', 'cgroup'].map((type) => ({ type })),
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
      ...(o.seccomp ?? true ? { seccomp: ociSeccomp(caps) } : {}),
    },
  };
}

/** Writes `dir`/config.json (a bundle whose root is elsewhere, given absolute). */
export function writeBundle(dir: string, o: BundleOptions): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(ociConfig(o), null, 1)}\n`);
  return dir;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
const UNIFIED = `${CGROUP_ROOT}/unified`;

/**
 * crun refuses a hybrid cgroup layout whose cgroup2 has any controller
 * ("cgroups in hybrid mode not supported, drop all controllers from
 * cgroupv2"; on this host hugetlb lives there), even with
 * --cgroup-manager=disabled. Without touching the host, the runtimes are
 * shown a legacy layout instead: this process's main thread moves to a
 * mount namespace of its own (mount_namespaces(7): unshare(CLONE_NEWNS)
 * moves only the calling thread, and child_process forks from it, so every
 * runtime started from then on inherits it) where /sys/fs/cgroup is a new
 * tmpfs holding binds of the v1 hierarchies only. They are the host's own
 * hierarchies, so crun and runc still create (and remove) a real cgroup per
 * container in each — the work nsk does too. Irreversible for this process
 * (setns(2) back is refused to a multi-threaded caller): measure nsk first.
 * Returns what was done, for the report.
 */
export function legacyCgroupViewForRuntimes(): string {
  let controllers = '';
  try { controllers = readFileSync(`${UNIFIED}/cgroup.controllers`, 'utf8').trim(); } catch { return 'no hybrid cgroup2 mount: runtimes see the host as is'; }
  if (!controllers) return 'hybrid layout with an empty cgroup2: runtimes see the host as is';
  unshare(CLONE.NEWNS);
  mount(null, '/', null, MS.REC | MS.PRIVATE);
  const keep = mkdtempSync('/tmp/nsk-bench-cgroup-');
  try {
    mount(CGROUP_ROOT, keep, null, MS.BIND | MS.REC);
    mount('tmpfs', CGROUP_ROOT, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=755');
    for (const h of readdirSync(keep)) {
      if (h === 'unified' || !existsSync(`${keep}/${h}/cgroup.procs`)) continue;
      mkdirSync(`${CGROUP_ROOT}/${h}`);
      mount(`${keep}/${h}`, `${CGROUP_ROOT}/${h}`, null, MS.BIND);
    }
  } finally {
    umount2(keep, MNT.DETACH);
    rmdirSync(keep);
  }
  return `hybrid layout with cgroup2 controllers (${controllers}): runtimes run in a mount namespace whose /sys/fs/cgroup holds the v1 hierarchies only`;
}

/** argv of `<runtime> --root STATE run --bundle DIR ID`. */
export function runtimeRun(runtime: string, state: string, bundle: string, id: string): string[] {
  return [runtime, '--root', state, 'run', '--bundle', bundle, id];
}
