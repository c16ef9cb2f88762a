// nsk's exit statuses, docker's convention: 125 when nsk itself failed,
// 126 when the command could not be executed, 127 when it was not found;
// otherwise the command's own status, 128 + N when signal N ended it.
import { NskError, SyscallError, ValidationError } from '@nsk/syscall';

export const EXIT = {
  /** nsk's own error: bad flags, a refused step, a missing image. */
  NSK: 125,
  /** The command exists but could not be executed (execve: EACCES, ENOEXEC …). */
  NOT_EXECUTABLE: 126,
  /** The command was not found (execve: ENOENT). */
  NOT_FOUND: 127,
} as const;

/** Bad command line: the message says what and how to get help. */
export class UsageError extends NskError {
  constructor(message: string) {
    super(message, 'ERR_NSK_USAGE');
  }
}

/** A container name that is not in the state directory. */
export class NoSuchContainerError extends NskError {
  readonly container: string;
  constructor(name: string) {
    super(`no such container: ${name}`, 'ERR_NSK_NO_SUCH_CONTAINER');
    this.container = name;
  }
}

/** The exit status for an error thrown before the command ran. */
export function exitCodeFor(err: unknown): number {
  // An error that carries its status (a detached start that failed in the supervisor).
  if (err instanceof NskError && 'exit' in err && typeof err.exit === 'number') return err.exit;
  if (err instanceof SyscallError && err.syscall === 'execve') {
    // execve(2): ENOENT — the file (or its interpreter) does not exist;
    // EACCES, ENOEXEC, EPERM, ETXTBSY, EISDIR — it exists but cannot run.
    return err.errno === 'ENOENT' || err.errno === 'ENOTDIR' ? EXIT.NOT_FOUND : EXIT.NOT_EXECUTABLE;
  }
  return EXIT.NSK;
}

/** The one line printed for an error nsk expected to meet; null for a bug. */
export function describe(err: unknown): string | null {
  if (err instanceof NskError) return err.message;
  // Node's own system errors (fs, net): "EACCES: permission denied, mkdir '/x'".
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string') return err.message;
  // parseArgs and other node:util validators.
  if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) return err.message;
  return null;
}

/** @nsk/container's fields (and run-flags.ts's) → the flag a person typed. */
const FLAGS: Record<string, string> = {
  name: '--name', rootfs: '--rootfs', image: 'IMAGE', store: 'IMAGE', command: 'COMMAND', 'image.cmd': 'IMAGE’s Cmd',
  env: '-e', cwd: '-w', workdir: '-w', user: '-u', hostname: '--hostname', network: '--net', net: '--net',
  publish: '-p', volumes: '-v', volume: '-v', memory: '--memory', cpus: '--cpus', pidsLimit: '--pids-limit',
  'pids-limit': '--pids-limit', capAdd: '--cap-add', capDrop: '--cap-drop', seccomp: '--seccomp', rootless: '--rootless',
  readonlyRootfs: '--read-only', tty: '-t', interactive: '-i',
};

/**
 * A ValidationError from @nsk/container said in the command line's words:
 * `capAdd[0]: unknown capability` → `nsk run: --cap-add: unknown capability`.
 */
export function asFlagError(command: string, err: unknown): unknown {
  if (!(err instanceof ValidationError)) return err;
  const top = err.field.split(/[.[]/)[0]!;
  const flag = FLAGS[err.field] ?? FLAGS[top];
  if (!flag) return err;
  const rest = err.message.slice(err.field.length + 2);
  return new UsageError(`nsk ${command}: ${flag}: ${rest}`);
}
