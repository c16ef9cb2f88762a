// The order of the features: the heart of @nsk/container. Each comes from
// its own package; what this file adds is the order, and why.
//
//   user      first: clone(2) creates the user namespace before the others,
//             and they are owned by it (user_namespaces(7)); its parent
//             hook writes the maps while the child waits.
//   mount     the rootfs: private propagation, /dev, /proc, /sys, volumes,
//             pivot_root, masked and read-only paths (mount_namespaces(7),
//             pivot_root(2)). /proc is mounted by the child, which is PID 1
//             of its new pid namespace (proc(5): a procfs shows the pid
//             namespace of whoever mounted it).
//   pid uts ipc net    born with clone(2); uts sets the hostname
//             (sethostname(2) needs CAP_SYS_ADMIN over the new namespace);
//             a bridge's parent hook wires the veth while the child waits;
//             'none' only brings lo up, in the child (loopback.ts).
//   cgroup    the groups (and the v1 device allow-list) are made before
//             clone; the child joins them as its very first steps, before
//             any mount (cgroups.ts says why the child writes, not the
//             parent), and unshares its cgroup namespace here, rooted at
//             them (cgroup_namespaces(7)).
//   capabilities   bounding set, user and groups, capset, ambient: last of
//             the privileged steps, since each earlier one needs some
//             capability (capabilities(7)).
//   seccomp   no_new_privs, then the filter: after it only execve(2) runs
//             (seccomp(2)), so the plan's own mounts are not filtered.
//   execve    the command, with the PATH search done in the container.
import type { Feature, Plan, SpawnOptions } from '@nsk/clone';
import { rootfs, type RootfsOptions } from '@nsk/mount';
import { pid } from '@nsk/pid';
import { uts } from '@nsk/uts';
import { ipc } from '@nsk/ipc';
import { AT, CLONE } from '@nsk/syscall';
import { credentials, type Identity } from './capabilities.ts';
import { etcFileFeatures, type EtcFile } from './etc-files.ts';
import { pathSearch } from './path-search.ts';
import { seccompFeature } from './seccomp.ts';
import { terminalFeatures, type Terminal } from './pty.ts';
import { kindInRoot } from './read-in-root.ts';
import { loopbackOnly } from './loopback.ts';
import { resolveUser } from './user.ts';
import { envValue } from './defaults.ts';
import { fitIdentity, type Prepared, type SingleUse } from './prepare.ts';

/** Where the container's root comes from. */
export interface RootfsPaths {
  /** The directory that becomes `/` (an image's overlay mount point). */
  path: string;
  overlay: { lower: string[]; upper: string; work: string } | undefined;
  /** Directories to read the rootfs's own files from (/etc/passwd), topmost first. */
  lower: readonly string[];
}

export interface Composed {
  options: SpawnOptions;
  identity: Identity;
  env: string[];
}

/** A cgroup namespace without a group of our own (rootless without limits): rooted at the caller's group. */
function cgroupNamespace(): Feature {
  return { name: 'cgroup-namespace', cloneFlags: CLONE.NEWCGROUP };
}

/** mkdir -p of an image's working directory, in the container's upper layer (Docker creates WorkingDir). */
function workdir(cwd: string): Feature {
  const parts = cwd.split('/').filter(Boolean);
  return {
    name: 'workdir',
    plan: (plan: Plan) => {
      for (let i = 1; i <= parts.length; i++) plan.mkdirat(AT.FDCWD, `/${parts.slice(0, i).join('/')}`, 0o755, { tolerate: 'EEXIST', label: `create the working directory /${parts.slice(0, i).join('/')}` });
    },
  };
}

/** True when any of `roots` has `path` as a file. */
function hasFile(roots: readonly string[], path: string): boolean {
  return roots.some((r) => kindInRoot(r, path) === 'file');
}

/**
 * The spawn() options for one container: features in the kernel's order.
 * `terminal` is the pty when `tty` is set.
 */
export function composeSpawn(p: Prepared, single: SingleUse, paths: RootfsPaths, terminal: Terminal | null): Composed {
  const c = p.checked;
  const d = p.decided;
  const isImage = c.image !== undefined;

  // An image's user is read from its layers, known only now.
  let identity = d.identity;
  let env = d.env;
  if (d.userSpec !== undefined) {
    const field = c.user !== undefined ? 'user' : 'image.user';
    const u = resolveUser(d.userSpec, paths.lower, field);
    identity = fitIdentity(u, single.user, field);
    if (envValue(env, 'HOME') === undefined) env = [...env, `HOME=${u.home}`];
  }

  const rootfsOptions: RootfsOptions = {
    path: paths.path,
    readonly: c.readonlyRootfs,
    volumes: c.volumes.map((v) => ({ source: v.host, target: v.container, readonly: v.readonly })),
    // sysfs(5): a new sysfs needs CAP_SYS_ADMIN over the network namespace's
    // owner; a rootless container sharing the host's network binds the host's.
    sys: c.rootless && c.network === 'host' ? 'bind' : 'sysfs',
    ...(paths.overlay ? { overlay: { lower: paths.overlay.lower, upper: paths.overlay.upper, work: paths.overlay.work } } : {}),
  };

  const net = single.network;
  const etc: EtcFile[] = [];
  if (net?.files) {
    const wanted: Array<[string, string]> = [[net.files.hosts, '/etc/hosts'], [net.files.resolvConf, '/etc/resolv.conf']];
    for (const [source, target] of wanted) {
      if (!isImage) {
        if (p.etcTargets.includes(target)) etc.push({ source, target, create: false });
      } else if (hasFile(paths.lower, target)) {
        etc.push({ source, target, create: false });
      } else if (!c.readonlyRootfs) {
        etc.push({ source, target, create: true });
      }
    }
  }
  const etcFiles = etc.length ? etcFileFeatures(etc) : null;
  const tty = terminal ? terminalFeatures(terminal, { console: true }) : null;

  const features: Feature[] = [
    ...(single.user ? [single.user] : []),
    ...(single.groups ? [single.groups.join()] : []),
    ...(etcFiles ? [etcFiles.take] : []),
    ...(tty ? [tty.open] : []),
    rootfs(rootfsOptions),
    pid(),
    uts({ hostname: d.hostname }),
    ipc(),
    ...(c.network === 'none' ? [loopbackOnly()] : net ? [net] : []),
    single.groups ? single.groups.namespace() : single.cgroup ?? cgroupNamespace(),
    ...(etcFiles ? [etcFiles.attach] : []),
    ...(tty ? [tty.attach] : []),
    ...(isImage && d.cwd !== '/' && !c.readonlyRootfs ? [workdir(d.cwd)] : []),
    credentials({ keep: d.capabilities.keep, ambient: d.capabilities.added, identity, cwd: d.cwd }),
    seccompFeature(d.seccomp),
    ...(d.search.earlier.length ? [pathSearch(d.search, d.argv, env)] : []),
  ];

  const options: SpawnOptions = {
    argv: d.argv,
    path: d.search.path,
    env,
    stdio: terminal ? [null, null, null] : c.stdio,
    features,
  };
  return { options, identity, env };
}
