// Waiting on cgroup state without blocking the event loop. cgroup.events
// can be watched with inotify (cgroups(7)), but freezing and emptying take
// milliseconds, so a short poll is simpler and as good.
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves once `done()` is true; false if `ms` passed first. */
export async function pollUntil(done: () => boolean, ms: number, everyMs = 2): Promise<boolean> {
  const deadline = performance.now() + ms;
  let delay = everyMs;
  for (;;) {
    if (done()) return true;
    if (performance.now() >= deadline) return done();
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}
