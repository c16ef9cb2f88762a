// Signals sent to nsk go on to the container (docker's --sig-proxy): `kill
// -TERM <nsk>` is `kill -TERM <container>`. Not forwarded: SIGCHLD, SIGPIPE
// (about nsk's own children and pipes), SIGTSTP/SIGTTIN/SIGTTOU (job
// control of nsk itself), SIGKILL/SIGSTOP (cannot be caught), SIGTRAP and
// SIGURG, SIGPROF (debuggers', runtimes' and profilers' own: Node's
// --cpu-prof samples on SIGPROF), and the
// synchronous faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL) Node keeps for itself.
import { constants } from 'node:os';

export const FORWARDED: readonly NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGTERM',
  'SIGCONT', 'SIGWINCH', 'SIGVTALRM', 'SIGIO', 'SIGPWR', 'SIGSYS', 'SIGABRT', 'SIGXCPU',
];

export interface SignalProxy {
  /** From now on signals go to `send`; those that came before it was given are sent now, in order. */
  to(send: (signal: NodeJS.Signals) => void): void;
  /** Stops catching: the signals' default actions are back. */
  stop(): void;
}

/**
 * Catches FORWARDED signals (but `except`: SIGWINCH under a pty becomes a
 * window-size change instead) from now on. Installed before the container
 * exists: a signal in the moment between its execve and our handler would
 * otherwise end nsk by its default action and orphan the container.
 */
export function proxySignals(except: readonly NodeJS.Signals[] = []): SignalProxy {
  let send: ((signal: NodeJS.Signals) => void) | null = null;
  const early: NodeJS.Signals[] = [];
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    if (except.includes(sig)) continue;
    const h = () => {
      if (send) send(sig);
      else early.push(sig);
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  return {
    to(fn) {
      send = fn;
      for (const sig of early.splice(0)) fn(sig);
    },
    stop() {
      for (const [sig, h] of handlers) process.off(sig, h);
    },
  };
}

/** `TERM`, `SIGTERM`, `15`, `term` → 'SIGTERM'; null when unknown. */
export function signalName(s: string): NodeJS.Signals | null {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    const hit = Object.entries(constants.signals).find(([, v]) => v === n);
    return hit ? (hit[0] as NodeJS.Signals) : null;
  }
  const up = s.toUpperCase();
  const name = (up.startsWith('SIG') ? up : `SIG${up}`) as NodeJS.Signals;
  return name in constants.signals ? name : null;
}
