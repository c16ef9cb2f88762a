import { errnoName, errnoText } from './errno.ts';

/**
 * The base of every error nsk throws on purpose. `code` is stable and meant
 * for programs (`'ENOENT'`, `'ERR_NSK_INVALID'`); the message is for people.
 */
export class NskError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export interface SyscallErrorInit {
  /** The system call, as man section 2 names it: `'pivot_root'`. */
  syscall: string;
  /** The errno number the kernel returned. */
  errno: number;
  /** What nsk was doing, in words: `'mount proc on /proc'`. */
  step?: string;
  /** Paths and other arguments worth showing, in call order. */
  args?: ReadonlyArray<string | number | bigint>;
  /** The main path involved, when there is one (also shown in `args`). */
  path?: string;
  /** What this errno most likely means here ("new root is not a mount point"). */
  hint?: string;
  cause?: unknown;
}

/**
 * A system call failed. Reads like
 * `mount proc on /proc: mount(proc, /proc, proc): EPERM — Operation not permitted`.
 */
export class SyscallError extends NskError {
  readonly syscall: string;
  /** The errno name: `'ENOENT'`. */
  readonly errno: string;
  /** The errno number: `2`. */
  readonly errnoNumber: number;
  readonly step: string | undefined;
  readonly path: string | undefined;
  readonly args: ReadonlyArray<string | number | bigint>;

  constructor(init: SyscallErrorInit) {
    const name = errnoName(init.errno);
    const args = init.args ?? (init.path !== undefined ? [init.path] : []);
    const call = `${init.syscall}(${args.map(String).join(', ')})`;
    const why = init.hint ?? errnoText(init.errno);
    const message = `${init.step ? `${init.step}: ` : ''}${call}: ${name} — ${why}`;
    super(message, name, init.cause === undefined ? undefined : { cause: init.cause });
    this.syscall = init.syscall;
    this.errno = name;
    this.errnoNumber = init.errno;
    this.step = init.step;
    this.path = init.path;
    this.args = args;
  }
}

/** Bad input, found before anything was created. Carries no errno. */
export class ValidationError extends NskError {
  /** The option or field that was wrong: `'hostname'`, `'stdio[1]'`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`, 'ERR_NSK_INVALID');
    this.field = field;
  }
}
