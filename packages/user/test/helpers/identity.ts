// A process's identity from /proc/PID/status (proc(5)): for fixtures run by
// runAsUser to prove they really are unprivileged. Generic, like testkit's runAsUser.
import { readFileSync } from 'node:fs';

/** What a process is, from /proc/PID/status: for fixtures to prove they are unprivileged. */
export interface Identity {
  /** real, effective, saved, filesystem */
  uid: number[];
  gid: number[];
  groups: number[];
  /** CapEff, hex as the kernel prints it. */
  capEff: string;
  capPrm: string;
  noNewPrivs: number;
}

export function identity(pid: number | 'self' = 'self'): Identity {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (k: string) => new RegExp(`^${k}:[ \\t]*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  const nums = (k: string) => field(k).split(/\s+/).filter(Boolean).map(Number);
  return { uid: nums('Uid'), gid: nums('Gid'), groups: nums('Groups'), capEff: field('CapEff'), capPrm: field('CapPrm'), noNewPrivs: Number(field('NoNewPrivs')) };
}
