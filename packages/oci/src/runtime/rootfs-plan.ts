// The container's filesystem, as steps of the child's plan, in runc's
// order: the root made a private mount point, config.json's mounts (each
// destination resolved inside the rootfs, created when missing), the device
// nodes and /dev links, pivot_root(2), masked and read-only paths, the
// root's propagation and read-only remount.
import { existsSync, statSync } from 'node:fs';
import { AT, MS, O } from '@nsk/syscall';
import { num, str, type Feature, type Plan } from '@nsk/clone';
import { keptFlags, planChroot, planMaskedPaths, planPivotRoot, planReadonlyPaths } from '@nsk/mount';
import type { MountSpec, OciSpec } from '../config/index.ts';
import { resolveInRoot } from './resolve.ts';
import { hostHierarchies } from './cgroup-hierarchies.ts';

/** runc's default devices: made whatever config.json says (runtime-spec "Default Devices"). */
const DEFAULT_DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];
const LINKS: ReadonlyArray<readonly [string, string]> = [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2']];

/** makedev(3) for the mknod(2) dev argument. */
function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

const S_IF: Record<string, number> = { c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 };

/** mkdir -p of `dir` (a resolved container path) under `root`, tolerating what exists. */
function mkdirs(plan: Plan, root: string, dir: string): void {
  const parts = dir.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const p = `${root}/${parts.slice(0, i).join('/')}`;
    plan.mkdirat(AT.FDCWD, p, 0o755, { tolerate: 'EEXIST', label: `create ${p}` });
  }
}

/** An empty file to bind a file onto. */
function touch(plan: Plan, path: string): void {
  const fd = plan.openat(AT.FDCWD, path, O.CREAT | O.WRONLY | O.CLOEXEC, 0o644, { label: `create ${path} to mount a file on` });
  plan.close(fd, { label: `close ${path}` });
}

function cgroupMount(plan: Plan, target: string, m: MountSpec): void {
  // cgroups(7): a "cgroup" mount is a tmpfs holding one mount per hierarchy
  // (or, on a v2-only host, the cgroup2 mount itself); in the container's
  // cgroup namespace each shows the container's group as its root
  // (cgroup_namespaces(7): "the cgroup root directories of the new
  // namespace" are the creator's cgroups — owned-namespaces.ts makes it
  // after the container joined its groups).
  const flags = (m.flags | MS.NOSUID | MS.NODEV | MS.NOEXEC) & ~MS.RDONLY;
  const ro = m.flags & MS.RDONLY;
  const all = hostHierarchies();
  const v1 = all.filter((h) => h.type === 'cgroup');
  if (v1.length === 0) {
    plan.mount('cgroup2', target, 'cgroup2', flags | ro, null, { label: `mount cgroup2 on ${target}` });
    return;
  }
  plan.mount('tmpfs', target, 'tmpfs', flags, 'mode=755', { label: `mount a tmpfs on ${target} for the cgroup hierarchies` });
  for (const h of all) {
    const dir = `${target}/${h.dir}`;
    plan.mkdirat(AT.FDCWD, dir, 0o755, { tolerate: 'EEXIST', label: `create ${dir}` });
    plan.mount(h.type, dir, h.type, flags | ro, h.data, { label: `mount the ${h.type === 'cgroup2' ? 'cgroup2' : `cgroup v1 hierarchy ${h.data}`} on ${dir}` });
  }
  if (ro) plan.mount(null, target, null, MS.REMOUNT | MS.RDONLY | flags, 'mode=755', { label: `make the tmpfs on ${target} read-only` });
}

export interface RootfsPlanOptions {
  noPivot: boolean;
  /** A new user namespace: device nodes are bound from the host (mknod(2) is refused there). */
  userns: boolean;
}

export function rootfsFeature(spec: OciSpec, o: RootfsPlanOptions): Feature {
  const root = spec.root.path;
  // Destinations are resolved now, on the host (the rootfs is not running yet).
  const mounts = spec.mounts.map((m, i) => ({ m, at: resolveInRoot(root, m.destination, `mounts[${i}].destination`) }));
  const devTmpfs = spec.mounts.some((m) => m.destination === '/dev' && !m.bind);
  const devices = spec.devices.map((d, i) => ({ d, at: resolveInRoot(root, d.path, `linux.devices[${i}].path`) }));
  const listed = new Set(spec.devices.map((d) => d.path));
  return {
    name: 'rootfs',
    plan(plan: Plan) {
      // mount_namespaces(7): the copy of the host's mounts shares its peer
      // groups; cut that before mounting anything (pivot_root(2) refuses
      // shared mounts as well).
      const pre = spec.rootfsPropagation & (MS.SLAVE | MS.PRIVATE) ? spec.rootfsPropagation | MS.REC : MS.PRIVATE | MS.REC;
      plan.mount(null, '/', null, pre, null, { label: 'make every mount of the new namespace private (or slave), so nothing propagates to the host' });
      plan.mount(root, root, null, MS.BIND | MS.REC, null, { label: `bind ${root} onto itself (pivot_root needs a mount point)` });
      for (const { m, at } of mounts) {
        const target = `${root}${at.path}`;
        const sourceIsDir = m.bind ? statSync(m.source!).isDirectory() : true;
        if (at.kind === null) {
          if (sourceIsDir) mkdirs(plan, root, at.path);
          else { mkdirs(plan, root, at.path.slice(0, at.path.lastIndexOf('/')) || '/'); touch(plan, target); }
        }
        if (m.type === 'cgroup') { cgroupMount(plan, target, m); continue; }
        if (m.bind) {
          plan.mount(m.source, target, null, m.flags, null, { label: `bind ${m.source} on ${target}` });
          if (m.bindFlags) {
            // mount(2): MS_BIND ignores the per-mount flags; a remount sets them,
            // repeating those the source has locked (in a user namespace).
            plan.mount(null, target, null, MS.BIND | MS.REMOUNT | m.bindFlags | keptFlags(m.source!), null, { label: `remount ${target} with ${m.bindFlags.toString(16)}` });
          }
        } else {
          plan.mount(m.source ?? m.type, target, m.type, m.flags, m.data, { label: `mount ${m.type} on ${target}` });
        }
        if (m.propagation) plan.mount(null, target, null, m.propagation, null, { label: `set the propagation of ${target}` });
      }
      for (const name of DEFAULT_DEVICES) {
        if (listed.has(`/dev/${name}`) || !existsSync(`/dev/${name}`)) continue;
        const p = `${root}/dev/${name}`;
        plan.mkdirat(AT.FDCWD, `${root}/dev`, 0o755, { tolerate: 'EEXIST', label: `create ${root}/dev` });
        const fd = plan.openat(AT.FDCWD, p, O.CREAT | O.WRONLY | O.CLOEXEC, 0o666, { label: `create ${p} to bind the device onto` });
        plan.close(fd, { label: `close ${p}` });
        plan.mount(`/dev/${name}`, p, null, MS.BIND, null, { label: `bind the host’s /dev/${name} on ${p}` });
      }
      for (const { d, at } of devices) {
        const p = `${root}${at.path}`;
        mkdirs(plan, root, at.path.slice(0, at.path.lastIndexOf('/')));
        if (o.userns) {
          const fd = plan.openat(AT.FDCWD, p, O.CREAT | O.WRONLY | O.CLOEXEC, 0o666, { label: `create ${p} to bind the device onto` });
          plan.close(fd, { label: `close ${p}` });
          plan.mount(d.path, p, null, MS.BIND, null, { label: `bind the host’s ${d.path} on ${p} (mknod is refused in a user namespace)` });
        } else {
          plan.unlinkat(AT.FDCWD, p, 0, { tolerate: 'ENOENT', label: `remove whatever is at ${p}` });
          plan.mknodat(AT.FDCWD, p, S_IF[d.type]! | d.fileMode, Number(makedev(d.major, d.minor)), { label: `make the device ${p} (${d.type} ${d.major}:${d.minor})` });
          plan.add('fchownat', [num(AT.FDCWD, 'AT_FDCWD'), str(p), num(d.uid), num(d.gid), num(0)], `give ${p} to ${d.uid}:${d.gid}`);
          // mknod(2) applies the umask: set the mode exactly.
          plan.add('fchmodat', [num(AT.FDCWD, 'AT_FDCWD'), str(p), num(d.fileMode, `0${d.fileMode.toString(8)}`), num(0)], `chmod ${p}`);
        }
      }
      if (devTmpfs) {
        for (const [link, target] of LINKS) plan.symlinkat(target, AT.FDCWD, `${root}/dev/${link}`, { tolerate: 'EEXIST', label: `link ${root}/dev/${link} to ${target}` });
        if (spec.mounts.some((m) => m.destination === '/dev/pts')) plan.symlinkat('pts/ptmx', AT.FDCWD, `${root}/dev/ptmx`, { tolerate: 'EEXIST', label: `link ${root}/dev/ptmx to pts/ptmx` });
      }
    },
  };
}

/** pivot_root (or chroot) and the root's propagation. */
export function pivotFeature(spec: OciSpec, o: RootfsPlanOptions): Feature {
  const root = spec.root.path;
  return {
    name: 'pivot-root',
    plan(plan: Plan) {
      if (o.noPivot) planChroot(plan, root);
      else planPivotRoot(plan, root);
      if (spec.rootfsPropagation & (MS.SHARED | MS.UNBINDABLE)) plan.mount(null, '/', null, spec.rootfsPropagation, null, { label: 'set the root’s propagation (linux.rootfsPropagation)' });
    },
  };
}

/**
 * Masked and read-only paths. They come after the sysctls are written
 * (runc's order): readonlyPaths usually holds /proc/sys, and a sysctl such
 * as podman's net.ipv4.ping_group_range is written through it.
 */
export function protectFeature(spec: OciSpec): Feature | null {
  if (!spec.maskedPaths.length && !spec.readonlyPaths.length) return null;
  return {
    name: 'masked-readonly-paths',
    plan(plan: Plan) {
      planMaskedPaths(plan, spec.maskedPaths);
      planReadonlyPaths(plan, spec.readonlyPaths);
    },
  };
}

/** Last of the mounts (after /dev/console is bound): the read-only root. */
export function readonlyRootFeature(spec: OciSpec): Feature | null {
  if (!spec.root.readonly) return null;
  const kept = keptFlags(spec.root.path);
  return {
    name: 'readonly-root',
    plan(plan: Plan) {
      plan.mount(null, '/', null, MS.BIND | MS.REMOUNT | MS.RDONLY | kept, null, { label: 'make the root read-only (root.readonly)' });
    },
  };
}
