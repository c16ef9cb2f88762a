// Volumes: host paths bound into the container, before pivot_root (the
// host's tree is out of reach after it).
import { existsSync, lstatSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { AT, O, ValidationError } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';
import { absolute, existing, under } from './check.ts';
import { planBind } from './bind.ts';
import { resolveIn } from './resolve-in.ts';

export interface Volume {
  /** The host path: a file or a directory. */
  source: string;
  /** Where the container sees it: absolute, in the container's tree. */
  target: string;
  /** Refuse writes from inside (EROFS); the host's side is unchanged. Default false. */
  readonly?: boolean;
  /** Bring the mounts below `source` along (`--rbind`). Default false. */
  recursive?: boolean;
}

/** A checked volume: `target` resolved inside the rootfs, symlinks followed there. */
export interface CheckedVolume extends Required<Volume> {
  isFile: boolean;
}

/** Container paths whose contents are made by rootfs itself: a volume there would be covered or refused. */
const RESERVED = ['/proc', '/sys'];

export function checkVolume(v: Volume, i: number, root: string): CheckedVolume {
  const field = `rootfs.volumes[${i}]`;
  if (typeof v !== 'object' || v === null) throw new ValidationError(field, 'must be { source, target, readonly? }');
  const source = existing(`${field}.source`, v.source);
  const given = absolute(`${field}.target`, v.target);
  const target = resolveIn(root, given, `${field}.target`);
  if (target === '/') throw new ValidationError(`${field}.target`, 'cannot be the container’s / (give the directory as rootfs.path)');
  const reserved = RESERVED.find((r) => under(target, r));
  if (reserved) throw new ValidationError(`${field}.target`, `${given} is inside ${reserved}, which the container mounts for itself`);
  return { source, target, readonly: v.readonly ?? false, recursive: v.recursive ?? false, isFile: !statSync(source).isDirectory() };
}

/** The container paths of a target and its parents, shallowest first: `/a/b` → `/a`, `/a/b`. */
export function pathsTo(target: string): string[] {
  const parts = target.split('/').filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/**
 * The bind of one volume, into `root` before pivot_root. Missing mount
 * points (and their parent directories) are made first, like runc does;
 * `exists(path)` says what the rootfs already has.
 */
export function planVolume(plan: Plan, root: string, v: CheckedVolume, exists: (containerPath: string) => boolean): void {
  const paths = pathsTo(v.target);
  for (const p of paths) {
    if (exists(p)) continue;
    const host = `${root}${p}`;
    if (p === v.target && v.isFile) {
      const fd = plan.openat(AT.FDCWD, host, O.CREAT | O.WRONLY, 0o644, { label: `create ${host}, an empty file to bind ${v.source} onto` });
      plan.close(fd, { label: `close ${host}` });
    } else {
      plan.mkdirat(AT.FDCWD, host, 0o755, { label: `create ${host} to mount a volume on`, tolerate: 'EEXIST' });
    }
  }
  planBind(plan, { source: v.source, target: `${root}${v.target}`, readonly: v.readonly, recursive: v.recursive });
}

/**
 * Mount points made in a rootfs, shared by every container of this process:
 * one is removed when the last container that needed it has ended, so two
 * containers on one rootfs never pull a mount point from under each other.
 */
const made = new Map<string, number>();

/** Counts the mount points about to be made (or already made by a live sibling) at `hostPaths`. */
export function holdMountPoints(hostPaths: readonly string[]): string[] {
  const held: string[] = [];
  for (const p of hostPaths) {
    const n = made.get(p);
    if (n === undefined && existsSync(p)) continue;
    made.set(p, (n ?? 0) + 1);
    held.push(p);
  }
  return held;
}

/** Releases what `holdMountPoints` counted, deepest first; removes what nobody holds any more. */
export function releaseMountPoints(held: readonly string[]): void {
  for (const p of [...held].reverse()) {
    const n = (made.get(p) ?? 1) - 1;
    if (n > 0) {
      made.set(p, n);
      continue;
    }
    made.delete(p);
    try {
      const st = lstatSync(p);
      if (st.isDirectory()) rmdirSync(p);
      else if (st.isFile() && st.size === 0) unlinkSync(p);
    } catch {
      // Gone already, or no longer empty: the container's writes are its own.
    }
  }
}
