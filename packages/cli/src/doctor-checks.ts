// What `nsk doctor` looks at: each kernel feature nsk builds on, read from
// where the kernel publishes it (/proc, /sys), with what it enables and how
// to get it when it is missing. Reads only; changes nothing.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';

export interface Check {
  /** Stable key for --json: `ns.mnt`, `userns.max`, `cgroup.memory` … */
  id: string;
  group: string;
  name: string;
  ok: boolean;
  /** What was found: `/proc/self/ns/mnt`, `15000`, `v2 at /sys/fs/cgroup` … */
  found: string;
  /** What nsk can do with it. */
  enables: string;
  /** How to get it; absent when ok. */
  fix?: string;
}

const read = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
};

/** namespaces(7): one file per kind in /proc/PID/ns, when the kernel has it (CONFIG_*_NS). */
const NAMESPACES: readonly [file: string, enables: string, config: string][] = [
  ['mnt', 'a container’s own mounts and root filesystem (pivot_root, /proc, volumes)', 'always built in'],
  ['uts', 'a container’s own hostname (--hostname)', 'CONFIG_UTS_NS'],
  ['ipc', 'a container’s own System V IPC and POSIX message queues', 'CONFIG_IPC_NS'],
  ['pid', 'a container’s own process ids (its command is PID 1 and sees only its own processes)', 'CONFIG_PID_NS'],
  ['net', 'a container’s own network stack (--net none|bridge, -p)', 'CONFIG_NET_NS'],
  ['user', 'root inside a container that is not root outside (--rootless; nsk for users without root)', 'CONFIG_USER_NS'],
  ['cgroup', 'a container’s own view of /proc/self/cgroup, rooted at its group', 'CONFIG_CGROUPS'],
  ['time', 'a container’s own monotonic and boot-time clocks (Linux 5.6+)', 'CONFIG_TIME_NS'],
];

function namespaceChecks(): Check[] {
  return NAMESPACES.map(([file, enables, config]) => {
    const path = `/proc/self/ns/${file}`;
    const ok = existsSync(path);
    return {
      id: `ns.${file}`, group: 'Namespaces', name: `${file} namespace`, ok, found: ok ? path : `no ${path}`, enables,
      ...(ok ? {} : { fix: `a kernel built with ${config} (every distribution kernel has it)` }),
    };
  });
}

function userNamespaceChecks(): Check[] {
  const group = 'User namespaces for unprivileged users';
  const out: Check[] = [];
  // Debian and Ubuntu kernels add this switch; mainline kernels always allow it.
  const clone = read('/proc/sys/kernel/unprivileged_userns_clone');
  out.push({
    id: 'userns.clone', group, name: 'kernel.unprivileged_userns_clone', ok: clone === null || clone !== '0',
    found: clone === null ? 'not present (the kernel does not restrict it)' : clone,
    enables: 'user namespaces for users without root (nsk run --rootless as a user)',
    ...(clone === '0' ? { fix: 'sysctl -w kernel.unprivileged_userns_clone=1 (and in /etc/sysctl.d/ to keep it)' } : {}),
  });
  const max = read('/proc/sys/user/max_user_namespaces');
  const maxOk = max !== null && Number(max) > 0;
  out.push({
    id: 'userns.max', group, name: 'user.max_user_namespaces', ok: maxOk, found: max ?? 'not present',
    enables: 'user namespaces at all (this is how many each user may hold; 0 forbids them)',
    ...(maxOk ? {} : { fix: 'sysctl -w user.max_user_namespaces=15000' }),
  });
  // Ubuntu 23.10+: AppArmor denies unprivileged user namespaces to programs without a profile that allows `userns`.
  const aa = read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  out.push({
    id: 'userns.apparmor', group, name: 'kernel.apparmor_restrict_unprivileged_userns', ok: aa === null || aa === '0',
    found: aa === null ? 'not present (no AppArmor restriction)' : aa,
    enables: 'user namespaces for programs AppArmor has no profile for (Ubuntu 23.10+ restricts them)',
    ...(aa !== null && aa !== '0' ? { fix: 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for node with the `userns,` rule' } : {}),
  });
  return out;
}

async function cgroupChecks(): Promise<Check[]> {
  const group = 'Control groups';
  const { detectLayout } = await import('@nsk/cgroup');
  let layout;
  try {
    layout = detectLayout();
  } catch (err) {
    return [{
      id: 'cgroup.layout', group, name: 'cgroup filesystem', ok: false, found: (err as Error).message,
      enables: 'limits on memory, CPU and processes; killing a whole container at once',
      fix: 'mount -t cgroup2 none /sys/fs/cgroup',
    }];
  }
  const v2 = layout.v2 ? `cgroup2 at ${layout.v2.mountPoint} (${layout.v2.controllers.join(' ') || 'no controllers'})` : '';
  const v1 = layout.v1.map((h) => h.controllers.join(',')).join(' ');
  const out: Check[] = [{
    id: 'cgroup.layout', group, name: `layout: ${layout.kind}`, ok: true,
    found: [layout.v1.length ? `v1: ${v1}` : '', v2].filter(Boolean).join('; '),
    enables: 'a cgroup per container, removed when it ends',
  }];
  const where = (c: string): string | null => {
    const h = layout.v1.find((x) => x.controllers.includes(c));
    if (h) return `v1 ${h.mountPoint}`;
    return layout.v2?.controllers.includes(c) ? `v2 ${layout.v2.mountPoint}` : null;
  };
  for (const [c, flag] of [['memory', 'memory limits (--memory)'], ['cpu', 'CPU limits (--cpus)'], ['pids', 'process limits (--pids-limit)']] as const) {
    const at = where(c);
    out.push({
      id: `cgroup.${c}`, group, name: `${c} controller`, ok: at !== null, found: at ?? 'in no hierarchy', enables: flag,
      ...(at ? {} : { fix: layout.v2 ? `echo +${c} > ${layout.v2.mountPoint}/cgroup.subtree_control (or boot with cgroup_enable=${c})` : `mount -t cgroup -o ${c} none /sys/fs/cgroup/${c}` }),
    });
  }
  // Killing every process of a container at once: cgroup.kill in any v2
  // group (Linux 5.14+), else v1's freezer (freeze, kill, thaw).
  const freezer = where('freezer');
  const kill = layout.v2 ? `cgroup.kill in ${layout.v2.mountPoint}` : freezer ? `freezer ${freezer}` : null;
  out.push({
    id: 'cgroup.kill', group, name: 'kill a whole cgroup', ok: kill !== null, found: kill ?? 'no cgroup2 and no freezer hierarchy',
    enables: 'ending all of a container’s processes at once (nsk stop, rm -f, every exit), also those that escaped its PID 1',
    ...(kill ? {} : { fix: 'mount -t cgroup2 none /sys/fs/cgroup/unified' }),
  });
  return out;
}

function seccompCheck(): Check {
  // seccomp(2): the actions this kernel's filters may return.
  const actions = read('/proc/sys/kernel/seccomp/actions_avail');
  const ok = actions !== null && actions.split(/\s+/).includes('errno');
  return {
    id: 'seccomp', group: 'Other kernel features', name: 'seccomp filters', ok, found: actions ? `actions: ${actions}` : 'no /proc/sys/kernel/seccomp/actions_avail',
    enables: 'the default seccomp profile (--seccomp default): the system calls a container needs, the rest refused',
    ...(ok ? {} : { fix: 'a kernel built with CONFIG_SECCOMP_FILTER' }),
  };
}

function overlayCheck(): Check {
  const fs = read('/proc/filesystems') ?? '';
  const loaded = /\toverlay$/m.test(fs);
  const release = read('/proc/sys/kernel/osrelease') ?? '';
  const module = ['', '.xz', '.zst', '.gz'].some((z) => existsSync(`/lib/modules/${release}/kernel/fs/overlayfs/overlay.ko${z}`));
  return {
    id: 'overlay', group: 'Other kernel features', name: 'overlay filesystem', ok: loaded,
    found: loaded ? 'in /proc/filesystems' : module ? 'a module, not loaded' : 'not in /proc/filesystems',
    enables: 'image layers shared between containers, each with a writable layer of its own',
    ...(loaded ? {} : { fix: module ? 'modprobe overlay' : 'a kernel built with CONFIG_OVERLAY_FS' }),
  };
}

function idMapperChecks(): Check[] {
  const group = 'Rootless with many ids';
  const out: Check[] = [];
  for (const tool of ['newuidmap', 'newgidmap']) {
    const path = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => `${d}/${tool}`).find((p) => existsSync(p));
    const st = path ? statSync(path) : null;
    // A setuid-root binary, as shadow's uidmap package installs it.
    const ok = !!st && st.uid === 0 && (st.mode & 0o4000) !== 0;
    out.push({
      id: tool, group, name: tool, ok, found: path ? `${path}${ok ? ' (setuid root)' : ' (not setuid root)'}` : 'not found',
      enables: 'rootless containers with more ids than the caller’s own (a range from /etc/subuid)',
      ...(ok ? {} : { fix: path ? `chmod u+s ${path}` : 'apt-get install uidmap' }),
    });
  }
  return out;
}

async function subuidCheck(): Promise<Check> {
  const who = process.env.SUDO_USER || userInfo().username;
  const { subordinateIds } = await import('@nsk/user');
  const ids = subordinateIds(who);
  const ok = ids.uids.length > 0 && ids.gids.length > 0;
  const show = (r: { start: number; count: number }[]) => r.map((x) => `${x.start}+${x.count}`).join(',') || 'none';
  return {
    id: 'subuid', group: 'Rootless with many ids', name: `/etc/subuid and /etc/subgid for ${who}`, ok,
    found: `uids ${show(ids.uids)}, gids ${show(ids.gids)}`,
    enables: `rootless containers of ${who} with many ids (newuidmap maps only the ranges listed there)`,
    ...(ok ? {} : { fix: `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${who}` }),
  };
}

async function busyboxCheck(): Promise<Check> {
  const { findBusybox, BUSYBOX_PATHS } = await import('@nsk/rootfs');
  const found = findBusybox();
  return {
    id: 'busybox', group: 'Root filesystems', name: 'busybox-static', ok: found !== null,
    found: found ?? `no static busybox at ${BUSYBOX_PATHS.join(' or ')}`,
    enables: 'nsk run with no image: a root made from the host’s busybox, no download',
    ...(found ? {} : { fix: 'apt-get install busybox-static' }),
  };
}

/** Every check, in the order printed. */
export async function doctor(): Promise<Check[]> {
  return [
    ...namespaceChecks(),
    ...userNamespaceChecks(),
    ...(await cgroupChecks()),
    seccompCheck(),
    overlayCheck(),
    ...idMapperChecks(),
    await subuidCheck(),
    await busyboxCheck(),
  ];
}
