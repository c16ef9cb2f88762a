// Which file descriptors the child keeps. Only the ones the caller names
// reach the new program; everything else is marked close-on-exec.
import { CLOSE_RANGE, O } from '@nsk/syscall';
import type { Plan } from './plan/plan.ts';

/**
 * `stdio[i]` is the parent's fd that becomes fd `i` in the child (null: none).
 * `reserved` are fds the plan itself needs until execve (the error pipe);
 * the caller makes sure they are above every target.
 */
export function planFds(plan: Plan, stdio: ReadonlyArray<number | null>, reserved: readonly number[]): void {
  const pairs = stdio.flatMap((src, tgt) => (src === null ? [] : [{ src, tgt }]));
  const moved = pairs.filter((p) => p.src !== p.tgt);
  const targets = new Set(pairs.map((p) => p.tgt));
  // dup3 onto a target that another pair still has to read from would lose
  // it: then copy every source out of the way first.
  const clash = moved.some((p) => targets.has(p.src));
  if (clash) {
    let spare = Math.max(stdio.length, ...pairs.map((p) => p.src), ...reserved) + 1;
    const temps = moved.map((p) => ({ ...p, tmp: spare++ }));
    for (const p of temps) plan.dup3(p.src, p.tmp, O.CLOEXEC, { label: `keep fd ${p.src} aside for fd ${p.tgt}` });
    for (const p of temps) plan.dup3(p.tmp, p.tgt);
  } else {
    for (const p of moved) plan.dup3(p.src, p.tgt);
  }
  // Node opens fds 0-2 close-on-exec (DESIGN.md §1); dup2(fd, fd) would not
  // clear the flag, fcntl(F_SETFD, 0) does.
  for (const p of pairs) if (p.src === p.tgt) plan.keepOpen(p.tgt);
  // Gaps below the highest target (null entries) are closed at execve too.
  for (let fd = 0; fd < stdio.length; fd++) if (stdio[fd] === null) plan.closeRange(fd, fd, CLOSE_RANGE.CLOEXEC);
  plan.closeRange(stdio.length, 0xffffffff, CLOSE_RANGE.CLOEXEC);
}
