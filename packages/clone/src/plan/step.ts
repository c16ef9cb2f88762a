// A plan is a list of steps; each step is one system call with its arguments
// and a sentence saying why it is there. Arguments that point at memory
// (strings, argv, structs) are described here and laid out by encode.ts.
import type { SyscallName } from '@nsk/syscall';

/** A NUL-terminated string, placed in the plan's memory. */
export interface CStr { readonly kind: 'str'; readonly value: string }
/**
 * A pointer inside a struct to another block of bytes: the encoder places
 * `to` and writes its address, as a u64, at offset `at` of the struct
 * (struct sock_fprog's filter pointer, say).
 */
export interface Pointer { readonly at: number; readonly to: Uint8Array }
/** Raw bytes (a struct), placed in the plan's memory. `show` is how explain() prints it. */
export interface Bytes { readonly kind: 'bytes'; readonly value: Uint8Array; readonly show: string; readonly pointers?: readonly Pointer[] }
/** A NULL-terminated array of string pointers (argv, envp). */
export interface StrVec { readonly kind: 'strv'; readonly value: readonly string[] }
/** The result of an earlier step (a file descriptor it returned, say). */
export interface Ref { readonly kind: 'ref'; readonly step: number }
/** A plain number; `show` is how explain() prints it (flag names). */
export interface Num { readonly kind: 'num'; readonly value: number | bigint; readonly show?: string }

export type Arg = CStr | Bytes | StrVec | Ref | Num;

export interface Step {
  readonly syscall: SyscallName;
  readonly args: readonly Arg[];
  /** What the step does, in words: "mount proc on /proc". Errors lead with it. */
  readonly label: string;
  /** An errno that counts as success (mkdirat → EEXIST). */
  readonly tolerate?: number;
  /** A zero result is a failure, reported as EPIPE (a read that saw EOF). */
  readonly nonzero?: boolean;
}

export const str = (value: string): CStr => ({ kind: 'str', value });
export const bytes = (value: Uint8Array, show: string, pointers?: readonly Pointer[]): Bytes => {
  for (const p of pointers ?? []) {
    if (!Number.isInteger(p.at) || p.at < 0 || p.at + 8 > value.length) throw new RangeError(`a pointer at offset ${p.at} does not fit in ${value.length} bytes`);
  }
  return pointers?.length ? { kind: 'bytes', value, show, pointers } : { kind: 'bytes', value, show };
};
export const strv = (value: readonly string[]): StrVec => ({ kind: 'strv', value });
export const num = (value: number | bigint, show?: string): Num => (show === undefined ? { kind: 'num', value } : { kind: 'num', value, show });
export const NULL: Num = { kind: 'num', value: 0, show: 'NULL' };
