// What a filter returns: SECCOMP_RET_* in the high 16 bits, data in the low
// 16 (linux/seccomp.h; seccomp(2) "Filter return values").

export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;
export const RET_ACTION_FULL = 0xffff0000;
export const RET_DATA = 0x0000ffff;

export type ActionKind = 'allow' | 'errno' | 'kill-process' | 'kill-thread' | 'trap' | 'trace' | 'log' | 'user-notify';

/** A verdict: what to do, and for errno/trace the 16-bit data. */
export interface Action {
  readonly kind: ActionKind;
  readonly data: number;
}

const BASE: Record<ActionKind, number> = {
  'allow': RET.ALLOW,
  'errno': RET.ERRNO,
  'kill-process': RET.KILL_PROCESS,
  'kill-thread': RET.KILL_THREAD,
  'trap': RET.TRAP,
  'trace': RET.TRACE,
  'log': RET.LOG,
  'user-notify': RET.USER_NOTIF,
};

/**
 * The profile spelling of each action (libseccomp's names). SCMP_ACT_KILL is
 * libseccomp's old name for killing the thread.
 */
export const SCMP_ACTIONS: Readonly<Record<string, ActionKind>> = {
  SCMP_ACT_ALLOW: 'allow',
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_KILL: 'kill-thread',
  SCMP_ACT_KILL_THREAD: 'kill-thread',
  SCMP_ACT_KILL_PROCESS: 'kill-process',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_TRACE: 'trace',
  SCMP_ACT_LOG: 'log',
  SCMP_ACT_NOTIFY: 'user-notify',
};

/** The value a `ret` returns for `action`. */
export function actionValue(a: Action): number {
  return (BASE[a.kind] | (a.data & RET_DATA)) >>> 0;
}

/** The action a returned value stands for (the kernel's reading of it). */
export function actionOf(ret: number): Action {
  const full = (ret & RET_ACTION_FULL) >>> 0;
  const data = ret & RET_DATA;
  const kind = (Object.keys(BASE) as ActionKind[]).find((k) => BASE[k] === full);
  // seccomp(2): an unknown action value is treated as SECCOMP_RET_KILL_PROCESS.
  return { kind: kind ?? 'kill-process', data: kind === 'errno' || kind === 'trace' || kind === 'trap' ? data : 0 };
}

/** `ERRNO(1)`, `ALLOW`, `KILL_PROCESS`: how explain() prints a return value. */
export function showAction(ret: number): string {
  const full = (ret & RET_ACTION_FULL) >>> 0;
  const data = ret & RET_DATA;
  const name = Object.entries(RET).find(([, v]) => v === full)?.[0];
  if (name === undefined) return `0x${(ret >>> 0).toString(16).padStart(8, '0')}`;
  return data || name === 'ERRNO' || name === 'TRACE' ? `${name}(${data})` : name;
}

/** Allow and log let the call run; every other action stops it. */
export function lets(a: Action): boolean {
  return a.kind === 'allow' || a.kind === 'log';
}
