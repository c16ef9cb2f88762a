// A root filesystem for the child: a mount namespace of its own, a private
// copy of the host's mounts, the rootfs bound (or overlaid) onto itself,
// /dev, /proc, /sys and volumes mounted, then pivot_root(2) into it and the
// host's tree detached; last, runc's masked and read-only paths.
// mount_namespaces(7), pivot_root(2).
import { existsSync, lstatSync, readlinkSync, type Stats } from 'node:fs';
import { CLONE, MS, ValidationError } from '@nsk/syscall';
import type { ChildInfo, Feature, Plan } from '@nsk/clone';
import { existing, under } from './check.ts';
import { remountCall } from './bind.ts';
import { planChroot } from './chroot.ts';
import { planDev } from './dev.ts';
import { MASKED_PATHS, PROC_FLAGS, READONLY_PATHS, hostKind, planMaskedPaths, planReadonlyPaths, type PathKind } from './masked.ts';
import { keptFlags } from './mount-flags.ts';
import { overlayCall, type OverlayOptions } from './overlay.ts';
import { planMountCalls } from './mount.ts';
import { planPivotRoot } from './pivot-root.ts';
import { planProc } from './proc.ts';
import { checkPropagation, planPropagation, type PropagationType } from './propagation.ts';
import { planSys, type SysMode } from './sys.ts';
import { planTmpfs } from './tmpfs.ts';
import { checkVolume, holdMountPoints, pathsTo, planVolume, releaseMountPoints, type CheckedVolume, type Volume } from './volume.ts';

export interface RootfsOptions {
  /** The directory that becomes `/`: absolute, existing. With `overlay`, the read-only image below. */
  path: string;
  /**
   * Keep the image unchanged: mount an overlay on `path` whose writes land in
   * `upper`. `lower`: the read-only layers, topmost first (an image's layers
   * from a store); default `[path]`, the directory itself.
   */
  overlay?: { upper: string; work: string; lower?: readonly string[] };
  /** Mount the root read-only (a tmpfs is mounted on /tmp for writes). Default false. */
  readonly?: boolean;
  /** Mount /proc (for a new pid namespace: its own). Default true. */
  proc?: boolean;
  /** A read-only /sys: a new sysfs, or the host's bound (see `SysMode`); false for none. Default `'sysfs'`. */
  sys?: SysMode | false;
  /** A minimal /dev: null, zero, full, random, urandom, tty, pts, shm, mqueue, symlinks. Default true. */
  dev?: boolean;
  /** /dev/mqueue (isolates only with a new IPC namespace). Default true. */
  mqueue?: boolean;
  /** Host paths bound into the container, before pivot_root. */
  volumes?: readonly Volume[];
  /** Paths hidden after pivot_root. Default runc's `MASKED_PATHS`. */
  masked?: readonly string[];
  /** Paths made read-only after pivot_root. Default runc's `READONLY_PATHS`. */
  readonlyPaths?: readonly string[];
  /**
   * How the container's mounts relate to the host's. Default `'private'`:
   * nothing propagates either way. `'slave'`: the host's new mounts (below
   * `path`) propagate in, nothing out. `'shared'` and `'unbindable'` apply
   * inside the container after pivot_root (a shared mount there forms a new
   * peer group of its own: pivot_root(2) refuses shared mounts, so the host's
   * groups are never joined).
   */
  propagation?: PropagationType;
  /** Use chroot(2) instead of pivot_root(2); the host's mounts stay in the namespace. Default false. */
  chroot?: boolean;
}

interface Checked {
  root: string;
  overlay: { upper: string; work: string; lower: string[] | undefined } | undefined;
  readonly: boolean;
  proc: boolean;
  sys: SysMode | false;
  dev: boolean;
  mqueue: boolean;
  volumes: CheckedVolume[];
  masked: Array<{ path: string; kind: PathKind }>;
  readonlyPaths: string[];
  propagation: PropagationType;
  chroot: boolean;
}

function containerPaths(field: string, paths: unknown): string[] {
  if (!Array.isArray(paths)) throw new ValidationError(field, 'must be a list of absolute paths');
  return paths.map((p, i) => {
    if (typeof p !== 'string' || !p.startsWith('/') || p.includes('\0')) throw new ValidationError(`${field}[${i}]`, `must be an absolute path: ${String(p)}`);
    return p;
  });
}

function check(o: RootfsOptions): Checked {
  if (typeof o !== 'object' || o === null) throw new ValidationError('rootfs', 'give { path }');
  const root = existing('rootfs.path', o.path, 'directory');
  if (o.overlay !== undefined && (typeof o.overlay !== 'object' || o.overlay === null)) throw new ValidationError('rootfs.overlay', 'must be { upper, work, lower? }');
  if (o.overlay?.lower !== undefined && !Array.isArray(o.overlay.lower)) throw new ValidationError('rootfs.overlay.lower', 'must be a list of directories, topmost first');
  const overlay = o.overlay === undefined ? undefined : { upper: o.overlay.upper, work: o.overlay.work, lower: o.overlay.lower === undefined ? undefined : [...o.overlay.lower] };
  if (overlay) overlayCall(overlayOf(root, overlay)); // checks the layers now
  const dev = o.dev ?? true;
  const sys = o.sys ?? 'sysfs';
  if (sys !== false && sys !== 'sysfs' && sys !== 'bind') throw new ValidationError('rootfs.sys', `'sysfs', 'bind' or false; got ${String(sys)}`);
  const c: Checked = {
    root, overlay, dev, sys,
    readonly: o.readonly ?? false,
    proc: o.proc ?? true,
    mqueue: o.mqueue ?? true,
    volumes: [],
    masked: [],
    readonlyPaths: containerPaths('rootfs.readonlyPaths', o.readonlyPaths ?? READONLY_PATHS),
    propagation: checkPropagation('rootfs.propagation', o.propagation ?? 'private'),
    chroot: o.chroot ?? false,
  };
  const has = (p: string) => existsIn(c, p);
  for (const [dir, needed] of [['/proc', c.proc], ['/dev', dev], ['/sys', sys !== false], ['/tmp', c.readonly]] as const) {
    if (needed && !has(dir)) throw new ValidationError('rootfs.path', `${root} has no ${dir} directory to mount on`);
  }
  // Several layers exist only merged: resolve each volume's symlinks in that
  // view first (checkVolume then finds nothing more to follow in `path`).
  c.volumes = (o.volumes ?? []).map((v, i) =>
    checkVolume(overlay?.lower && typeof v === 'object' && v !== null && typeof v.target === 'string' && v.target.startsWith('/')
      ? { ...v, target: resolveInLayers(layersOf(c)!, v.target) } : v, i, root));
  // Under /proc and /sys the child finds the same kernel as the host does;
  // elsewhere it finds the rootfs.
  c.masked = containerPaths('rootfs.masked', o.masked ?? MASKED_PATHS).map((path) => ({
    path, kind: under(path, '/proc') || under(path, '/sys') ? hostKind(path) : hostKind(seenAt(c, path) ?? `${root}${path}`),
  }));
  if (!dev && c.masked.some((m) => m.kind === 'file')) throw new ValidationError('rootfs.masked', 'masking a file binds /dev/null over it: keep dev: true, or give masked: []');
  return c;
}

/** The overlay mount of `root`: its own `lower` list, or `root` itself below `upper`. */
function overlayOf(root: string, o: { upper: string; work: string; lower: string[] | undefined }): OverlayOptions {
  return { target: root, lower: o.lower ?? root, upper: o.upper, work: o.work };
}

/** With `overlay.lower`, the merged view's layers, topmost first: upper, then the lowers. */
function layersOf(c: Pick<Checked, 'overlay'>): string[] | undefined {
  return c.overlay?.lower ? [c.overlay.upper, ...c.overlay.lower] : undefined;
}

/**
 * overlayfs.rst: a name is looked up in each layer from the top; the first
 * layer that has it decides. A whiteout (a 0:0 character device) hides it
 * and everything below; a directory merges with the directories of the same
 * name below it, down to the first layer where the name is not a directory
 * (opaque directories are not read here: an xattr, not visible to fs.Stats).
 * Returns where the merged entry lives on the host (its topmost layer), or null.
 */
function lookupLayers(layers: readonly string[], p: string): { host: string; stats: Stats } | null {
  let dirs = [...layers];
  let found: { host: string; stats: Stats } | null = { host: layers[0]!, stats: lstatSync(layers[0]!) };
  let rel = '';
  for (const part of p.split('/').filter(Boolean)) {
    rel = `${rel}/${part}`;
    found = null;
    const below: string[] = [];
    for (const layer of dirs) {
      let st: Stats;
      try { st = lstatSync(`${layer}${rel}`); } catch { continue; }
      if (st.isCharacterDevice() && st.rdev === 0) break; // a whiteout
      if (found === null) found = { host: `${layer}${rel}`, stats: st };
      if (!st.isDirectory()) break;
      below.push(layer);
    }
    if (found === null) return null;
    dirs = below;
  }
  return found;
}

/** Like resolveIn, in the merged view of `layers`: symlinks followed as the container will see them. */
function resolveInLayers(layers: readonly string[], path: string): string {
  const rest = path.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (rest.length > 0) {
    const part = rest.shift()!;
    if (part === '.') continue;
    if (part === '..') { done.pop(); continue; }
    const hit = lookupLayers(layers, `/${[...done, part].join('/')}`);
    if (!hit?.stats.isSymbolicLink()) { done.push(part); continue; }
    // path_resolution(7): at most 40 symlinks in one lookup.
    if (++links > 40) throw new ValidationError('rootfs.volumes', `too many levels of symbolic links resolving ${path}`);
    const target = readlinkSync(hit.host);
    if (target.startsWith('/')) done.length = 0;
    rest.unshift(...target.split('/').filter(Boolean));
  }
  return `/${done.join('/')}`;
}

/** Where the container's `p` is on the host, with `overlay.lower` (null: absent, or no layers given). */
function seenAt(c: Checked, p: string): string | null {
  const layers = layersOf(c);
  if (!layers) return null;
  const hit = lookupLayers(layers, p);
  // existsSync follows a final symlink, as the kernel will when it mounts there.
  return hit && existsSync(hit.host) ? hit.host : null;
}

/** True when the container will find `p` in its rootfs (in `upper` or `path` for an overlay, or in its layers). */
function existsIn(c: Checked, p: string): boolean {
  if (layersOf(c)) return seenAt(c, p) !== null;
  return existsSync(`${c.root}${p}`) || (c.overlay !== undefined && existsSync(`${c.overlay.upper}${p}`));
}

/** Where a mount point made at container path `p` lands on the host: the image, or the overlay's upper. */
function hostPathOf(c: Checked, p: string): string {
  return `${c.overlay ? c.overlay.upper : c.root}${p}`;
}

/**
 * The per-mount flags a read-only remount at container path `p` must keep:
 * those of whatever the child has mounted there.
 */
function flagsAt(c: Checked, p: string): number {
  if (under(p, '/proc') || under(p, '/sys')) return PROC_FLAGS;
  const v = [...c.volumes].reverse().find((x) => under(p, x.target));
  if (v) return keptFlags(v.source);
  if (under(p, '/dev')) return MS.NOSUID;
  if (c.readonly && under(p, '/tmp')) return MS.NOSUID | MS.NODEV;
  if (c.overlay) return 0;
  return keptFlags(existsSync(`${c.root}${p}`) ? `${c.root}${p}` : c.root);
}

/** Adds the steps that make `o.path` the child's root filesystem. */
export function planRootfs(plan: Plan, o: RootfsOptions): void {
  planChecked(plan, check(o));
}

function planChecked(plan: Plan, c: Checked): void {
  const root = c.root;
  // mount_namespaces(7): a new mount namespace starts with a copy of the
  // host's mounts, each in the host's peer groups: if / is shared, the
  // container's mounts would appear on the host and the host's inside. Cut
  // that first. ('slave' keeps the host -> container direction; pivot_root
  // accepts slave mounts. 'shared' and 'unbindable' are applied after the
  // pivot: pivot_root refuses shared mounts, and an unbindable root could
  // not be bound onto itself.)
  planPropagation(plan, { target: '/', type: c.propagation === 'slave' ? 'slave' : 'private' });
  if (c.overlay) {
    // The overlay is a mount of its own at `root`: pivot_root's "new_root
    // must be a mount point" holds without a bind.
    const what = c.overlay.lower ? `${c.overlay.lower.length} image layer(s)` : 'the image';
    planMountCalls(plan, [overlayCall(overlayOf(root, c.overlay), `mount an overlay on ${root}: ${what} read-only below, writes to ${c.overlay.upper}`)]);
  } else {
    // pivot_root(2): new_root must be a mount point; bind it onto itself.
    plan.mount(root, root, null, MS.BIND | MS.REC, null, { label: `bind ${root} onto itself (pivot_root needs a mount point)` });
  }
  if (c.dev) planDev(plan, root, { mqueue: c.mqueue });
  if (c.proc) planProc(plan, `${root}/proc`);
  if (c.sys) planSys(plan, `${root}/sys`, c.sys);
  if (c.readonly) planTmpfs(plan, { target: `${root}/tmp`, mode: 0o1777 }, `mount a writable tmpfs on ${root}/tmp`);
  for (const v of c.volumes) planVolume(plan, root, v, (p) => existsIn(c, p));
  if (c.readonly) {
    // mount(2): a bind mount ignores MS_RDONLY on creation; remount it,
    // repeating the flags a user namespace locks.
    planMountCalls(plan, [remountCall(root, MS.RDONLY | (c.overlay ? 0 : keptFlags(root)))]);
  }
  if (c.chroot) planChroot(plan, root);
  else planPivotRoot(plan, root);
  planMaskedPaths(plan, c.masked.map((m) => m.path), (p) => c.masked.find((m) => m.path === p)!.kind);
  planReadonlyPaths(plan, c.readonlyPaths, (p) => flagsAt(c, p));
  if (c.propagation === 'shared' || c.propagation === 'unbindable') planPropagation(plan, { target: '/', type: c.propagation });
}

/**
 * The host paths where the volumes' mount points would be made. Whether
 * one is made (missing now) or still needed by a sibling container is
 * holdMountPoints' business; what an overlay's image has is never made.
 */
function mountPointPaths(c: Checked): string[] {
  const paths = [...new Set(c.volumes.flatMap((v) => pathsTo(v.target)))];
  const inImage = (p: string) => (c.overlay?.lower ? lookupLayers(c.overlay.lower, p) !== null : existsSync(`${c.root}${p}`));
  return (c.overlay ? paths.filter((p) => !inImage(p)) : paths).map((p) => hostPathOf(c, p));
}

/**
 * A Feature: a new mount namespace whose root is `path`. Stands for
 * `unshare -m; mount --make-rprivate /; mount --rbind PATH PATH; … pivot_root`.
 */
export function rootfs(o: RootfsOptions): Feature {
  const c = check(o);
  const feature: Feature = { name: 'rootfs', cloneFlags: CLONE.NEWNS, plan: (plan) => planChecked(plan, c) };
  if (c.volumes.length === 0) return feature;
  // Mount points the child makes in the rootfs are removed when it ends.
  const held = new Map<number, string[]>();
  return {
    ...feature,
    parent: (child: ChildInfo) => { held.set(child.pid, holdMountPoints(mountPointPaths(c))); },
    cleanup: (child: ChildInfo) => {
      releaseMountPoints(held.get(child.pid) ?? []);
      held.delete(child.pid);
    },
  };
}
