// Node's fs functions throw their own errors ({code: 'ENOENT', syscall}).
// nsk reports every failure as a SyscallError that says what it was doing.
import { SyscallError, errnoNumber } from '@nsk/syscall';

/** Turns a Node fs error into a SyscallError; anything else is returned as is. */
export function fsError(err: unknown, step: string, path: string, hint?: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code !== 'string' || !/^E[A-Z0-9]+$/.test(e.code)) return err;
  let errno: number;
  try {
    errno = errnoNumber(e.code);
  } catch {
    return err;
  }
  return new SyscallError({ syscall: e.syscall ?? 'open', errno, step, path, ...(hint ? { hint } : {}), cause: err });
}

/** The errno name of a Node fs error or a SyscallError, else undefined. */
export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}
