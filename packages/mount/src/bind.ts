// Bind mounts: the same files seen at a second place. mount(2) "Creating a
// bind mount", "Remounting an existing mount".
import { existsSync, realpathSync } from 'node:fs';
import { MS, ValidationError } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';
import { absolute, existing } from './check.ts';
import { KEPT_FLAGS, flagWords, keptFlags, optionFlags, submounts } from './mount-flags.ts';
import { planMountCalls, runMountCalls, type MountCall } from './mount.ts';

export interface BindOptions {
  /** What to show: a file or a directory. */
  source: string;
  /** Where to show it: of the same kind as `source`. */
  target: string;
  /** Refuse writes through the bind (EROFS). Default false. */
  readonly?: boolean;
  /** Bring the mounts below `source` along (`--rbind`). Default false (`--bind`). */
  recursive?: boolean;
  /**
   * The per-mount flags (nosuid, nodev, noexec) the read-only remount keeps.
   * Default: those of `source`'s mount as this process sees it, which is
   * right for a step that runs before pivot_root. Given, `source` is not
   * looked at here (it may exist only in the child's tree).
   */
  keep?: number;
  /**
   * Per-mount flags to add (MS_NOSUID, MS_NODEV, MS_NOEXEC), set by a remount
   * after the bind (mount(2) ignores them when a bind is made).
   */
  flags?: number;
  /** A missing source or target counts as success (for optional paths). */
  optional?: boolean;
}

const LOCKED_HINT = 'the remount must repeat the flags of the source’s mount, which a user namespace locks (mount(2) EPERM, mount_namespaces(7))';

/**
 * MS_REMOUNT|MS_BIND: sets the per-mount flags of the one mount at `at`
 * (mount(2) "Remounting an existing mount"), replacing all of them.
 */
export function remountCall(at: string, flags: number, why = ''): MountCall {
  const words = [...(flags & MS.RDONLY ? ['read-only'] : []), ...flagWords(flags & ~MS.RDONLY)];
  return {
    source: null, target: at, fstype: null, flags: MS.REMOUNT | MS.BIND | flags, data: null,
    label: `make ${at}${why} ${words.join(', ')}`,
    hints: { EPERM: LOCKED_HINT },
  };
}

/** The mount(2) calls of a bind; flags read in this process's view unless `keep` is given. */
export function bindCalls(o: BindOptions): MountCall[] {
  const looked = o.keep === undefined && !o.optional;
  const source = looked ? existing('bind.source', o.source) : absolute('bind.source', o.source);
  const target = absolute('bind.target', o.target);
  const tolerate = o.optional ? { tolerate: 'ENOENT' } : {};
  const calls: MountCall[] = [{
    source, target, fstype: null, flags: MS.BIND | (o.recursive ? MS.REC : 0), data: null, ...tolerate,
    label: `bind ${source} on ${target}${o.recursive ? ' with the mounts below it' : ''}`,
    hints: { ENOENT: `${source} or ${target} does not exist`, ENOTDIR: 'a file can only be bound on a file, a directory on a directory' },
  }];
  const extra = o.flags ?? 0;
  if ((extra & ~KEPT_FLAGS) !== 0) throw new ValidationError('bind.flags', 'only MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_NOSYMFOLLOW can be added to a bind');
  if (!o.readonly && !extra) return calls;
  // mount(2): MS_RDONLY and the other per-mount flags are ignored when a bind
  // is made; a second call with MS_REMOUNT|MS_BIND sets them on that one mount,
  // replacing all of them: the ones to keep are repeated.
  const remount = (at: string, keep: number, why: string): MountCall => ({
    ...remountCall(at, (o.readonly ? MS.RDONLY : 0) | keep | extra, why), ...tolerate,
  });
  const real = o.keep === undefined && existsSync(source) ? realpathSync(source) : null;
  calls.push(remount(target, o.keep ?? (real ? keptFlags(real) : 0), ''));
  // A remount changes one mount: each mount MS_REC brought along is remounted
  // on its own, with its own flags.
  if (o.recursive && real) {
    for (const m of submounts(real)) {
      calls.push(remount(`${target}${m.mountPoint.slice(real === '/' ? 0 : real.length)}`, optionFlags(m.options) & KEPT_FLAGS, ' (a mount below the bind)'));
    }
  }
  return calls;
}

/** A bind mount now, in this process's mount namespace. `mount --bind [-o ro] SOURCE TARGET`. */
export function bind(o: BindOptions): void {
  runMountCalls(bindCalls(o));
}

/** The same bind mount, as steps of a child's plan. */
export function planBind(plan: Plan, o: BindOptions): void {
  planMountCalls(plan, bindCalls(o));
}
