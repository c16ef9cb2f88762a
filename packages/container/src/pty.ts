// A terminal for the container (docker run -t): a new pseudoterminal pair,
// pty(7). The master stays with the caller (Container.terminal); the child
// makes the slave its stdin, stdout, stderr and controlling terminal.
//
// posix_openpt, grantpt, unlockpt and ptsname are, on Linux, an open of
// /dev/ptmx and two ioctls (glibc's own implementation; grantpt has nothing
// left to do on devpts, which creates the slave with the opener's uid).
import { closeSync, openSync } from 'node:fs';
import { AT, Arena, O, ValidationError, syscall } from '@nsk/syscall';
import { num, str, type Feature, type FdRef, type Plan } from '@nsk/clone';

/** tty_ioctl(4), asm-generic/ioctls.h (the same numbers on x86_64 and aarch64). */
const TIOCSCTTY = 0x540e;
const TIOCSWINSZ = 0x5414;
const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
/** linux/mount.h */
const OPEN_TREE_CLONE = 1;
const MOVE_MOUNT_F_EMPTY_PATH = 0x04;

let arena: Arena | undefined;
const scratch = (): Arena => (arena ??= Arena.map(16));

export interface Terminal {
  /** The master side: what the program writes is read here; what is written here is its input. */
  master: number;
  /** The slave's path in the devpts the master came from: `/dev/pts/3`. */
  slavePath: string;
}

/**
 * posix_openpt(O_RDWR|O_NOCTTY) + unlockpt + ptsname: a new pty pair, the
 * master close-on-exec. The slave is opened by the child itself.
 */
export function openTerminal(): Terminal {
  const master = openSync('/dev/ptmx', O.RDWR | O.NOCTTY | O.CLOEXEC);
  try {
    const a = scratch();
    const view = new DataView(a.bytes.buffer, a.bytes.byteOffset, 16);
    // unlockpt(3): TIOCSPTLCK with 0 unlocks the slave, so it can be opened.
    view.setInt32(0, 0, true);
    syscall('ioctl', master, TIOCSPTLCK, a.address);
    // ptsname(3): TIOCGPTN gives the slave's number.
    syscall('ioctl', master, TIOCGPTN, a.address);
    return { master, slavePath: `/dev/pts/${view.getUint32(0, true)}` };
  } catch (err) {
    closeSync(master);
    throw err;
  }
}

/** TIOCSWINSZ on the master: the program gets SIGWINCH and sees `rows`×`cols` (stty size). */
export function setTerminalSize(master: number, rows: number, cols: number): void {
  const a = scratch();
  const view = new DataView(a.bytes.buffer, a.bytes.byteOffset, 16);
  view.setUint16(0, rows, true);
  view.setUint16(2, cols, true);
  view.setUint32(4, 0, true);
  syscall('ioctl', master, TIOCSWINSZ, a.address);
}

/** A window size, as struct winsize holds it (tty_ioctl(4)). */
export interface TerminalSize { rows: number; columns: number }

/**
 * The `tty` option: true or false, or the pty's first window size
 * `{ rows, columns }` (each 1–65535, an unsigned short of struct winsize),
 * set on the master before the program runs.
 */
export function checkTty(field: string, v: unknown): { tty: boolean; size: TerminalSize | null } {
  if (v === undefined) return { tty: false, size: null };
  if (typeof v === 'boolean') return { tty: v, size: null };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError(field, `must be true, false or { rows, columns }, not ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'rows' && k !== 'columns') throw new ValidationError(`${field}.${k}`, 'unknown option');
  for (const k of ['rows', 'columns'] as const) {
    if (!Number.isInteger(o[k]) || (o[k] as number) < 1 || (o[k] as number) > 0xffff) throw new ValidationError(`${field}.${k}`, `must be a whole number, 1–65535: ${JSON.stringify(o[k])}`);
  }
  return { tty: true, size: { rows: o.rows as number, columns: o.columns as number } };
}

export interface TerminalFeatures {
  /** Opens the slave by its host path: before the rootfs steps, while the host's /dev/pts is in reach. */
  open: Feature;
  /** Makes it fd 0–2 and the controlling terminal (and /dev/console): after the rootfs steps. */
  attach: Feature;
}

/**
 * The child's side, as two Features around the rootfs (a plan has no
 * branches: the slave's path is known before clone, its fds are refs).
 * `console`: bind the slave onto /dev/console too, as runc does, so that
 * ttyname(3) finds it inside the container's own /dev (its devpts is a new
 * instance where the host's pty number does not exist).
 */
export function terminalFeatures(t: Terminal, o: { console: boolean }): TerminalFeatures {
  let fd: FdRef | null = null;
  let tree: FdRef | null = null;
  const open: Feature = {
    name: 'terminal',
    plan(plan: Plan) {
      fd = plan.openat(AT.FDCWD, t.slavePath, O.RDWR | O.NOCTTY, 0, { label: `open the terminal ${t.slavePath}` });
      // open_tree(2) OPEN_TREE_CLONE: a detached bind of the slave, made
      // while its path is reachable, attached after pivot_root.
      if (o.console) tree = plan.add('open_tree', [num(AT.FDCWD, 'AT_FDCWD'), str(t.slavePath), num(OPEN_TREE_CLONE | O.CLOEXEC, 'OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC')], `take a bind of ${t.slavePath} for /dev/console`);
    },
  };
  const attach: Feature = {
    name: 'terminal',
    plan(plan: Plan) {
      for (const n of [0, 1, 2]) plan.dup3(fd!, n, 0, { label: `make the terminal fd ${n}` });
      plan.close(fd!, { label: 'close the extra terminal fd' });
      // credentials(7): a new session has no controlling terminal; the
      // session leader acquires one with TIOCSCTTY (tty_ioctl(4)).
      plan.setsid({ label: 'start a new session (no controlling terminal yet)' });
      plan.add('ioctl', [num(0), num(TIOCSCTTY, 'TIOCSCTTY'), num(0)], 'make the terminal the controlling terminal');
      if (tree !== null) {
        const created = plan.openat(AT.FDCWD, '/dev/console', O.CREAT | O.RDONLY | O.NOCTTY, 0o600, { label: 'create /dev/console to bind the terminal onto' });
        plan.close(created, { label: 'close /dev/console' });
        plan.add('move_mount', [tree, str(''), num(AT.FDCWD, 'AT_FDCWD'), str('/dev/console'), num(MOVE_MOUNT_F_EMPTY_PATH, 'MOVE_MOUNT_F_EMPTY_PATH')], 'bind the terminal on /dev/console');
        plan.close(tree, { label: 'close the terminal’s bind' });
      }
    },
  };
  return { open, attach };
}
