// overlayfs: read-only lower directories (an image) with one writable upper
// directory above them. Reads fall through to the topmost layer that has the
// file; writes copy it up into upperdir first, so the lower layers are never
// changed. Documentation/filesystems/overlayfs.rst.
import { statSync } from 'node:fs';
import { ValidationError } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';
import { absolute, existing, under } from './check.ts';
import { planMountCalls, runMountCalls, type MountCall } from './mount.ts';

export interface OverlayOptions {
  /** The mount point (may be the lower directory itself: lowerdir is looked up before it is covered). */
  target: string;
  /** Read-only layers, topmost first. */
  lower: string | readonly string[];
  /** Where writes land. */
  upper: string;
  /** overlayfs's scratch directory: empty, on the same filesystem as `upper`. */
  work: string;
  /** MS_* flags. Default 0. */
  flags?: number;
}

// Commas separate mount options and colons separate lower layers; a path
// holding either (or the backslash that would escape them) is refused
// rather than escaped.
const SPECIAL = /[,:\\]/;

export function overlayCall(o: OverlayOptions, label?: string): MountCall {
  const target = absolute('overlay.target', o.target);
  const lowers = (typeof o.lower === 'string' ? [o.lower] : o.lower ?? []).map((l, i) => existing(`overlay.lower[${i}]`, l, 'directory'));
  if (lowers.length === 0) throw new ValidationError('overlay.lower', 'give at least one lower directory');
  if (o.upper === undefined) throw new ValidationError('overlay.upper', 'give an upper directory for writes (overlayfs without one is read-only; use a read-only bind instead)');
  const upper = existing('overlay.upper', o.upper, 'directory');
  if (o.work === undefined) throw new ValidationError('overlay.work', 'give a work directory, empty, on the same filesystem as upper');
  const work = existing('overlay.work', o.work, 'directory');
  for (const [field, p] of [...lowers.map((l, i) => [`overlay.lower[${i}]`, l] as const), ['overlay.upper', upper] as const, ['overlay.work', work] as const]) {
    if (SPECIAL.test(p)) throw new ValidationError(field, `overlayfs options cannot hold ',', ':' or '\\': ${p}`);
  }
  // overlayfs.rst: "workdir needs to be an empty directory on the same
  // filesystem as upperdir", and neither may contain the other.
  if (statSync(upper).dev !== statSync(work).dev) throw new ValidationError('overlay.work', `${work} is not on the same filesystem as ${upper}`);
  if (under(upper, work) || under(work, upper)) throw new ValidationError('overlay.work', `${work} and ${upper} must be separate directories, neither inside the other`);
  const data = `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`;
  if (data.length >= 4096) throw new ValidationError('overlay.lower', 'the options exceed one page (4096 bytes): use fewer or shorter layer paths');
  return {
    source: 'overlay', target, fstype: 'overlay', flags: o.flags ?? 0, data,
    label: label ?? `mount an overlay on ${target}: ${lowers.join(', ')} read-only below, writes to ${upper}`,
    hints: { EINVAL: 'overlayfs refused the layers (the kernel log says why: dmesg | grep overlayfs)' },
  };
}

/** An overlay now. `mount -t overlay -o lowerdir=…,upperdir=…,workdir=… overlay TARGET`. */
export function overlay(o: OverlayOptions): void {
  runMountCalls([overlayCall(o)]);
}

/** The same overlay, as a step of a child's plan. */
export function planOverlay(plan: Plan, o: OverlayOptions, label?: string): void {
  planMountCalls(plan, [overlayCall(o, label)]);
}
