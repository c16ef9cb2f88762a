// Chapter 8: the time namespace (Linux 5.6, 2020), the newest one. It
// shifts CLOCK_MONOTONIC and CLOCK_BOOTTIME — so a container restored on
// another machine keeps its uptime — and leaves the wall clock alone.
import { readFileSync } from 'node:fs';
import { time } from '@nsk/time';
import { defineChapter } from '../../src/chapter.ts';
import { nsInode, run } from '../../src/lab.ts';

export interface TimeObservation {
  /** Seconds of /proc/uptime: the host's just before and after, and the container's. */
  hostBefore: number;
  hostAfter: number;
  container: number;
  /** What the container's /proc/self/timens_offsets says. */
  offsets: string;
  hostNs: number;
  containerNs: number;
}

const uptime = (text: string) => Number(text.trim().split(/\s+/)[0]);

/** A child in a new time namespace whose boot clock is `offset` seconds ahead reads its uptime. */
export async function observe(offset: number): Promise<TimeObservation> {
  const hostBefore = uptime(readFileSync('/proc/uptime', 'utf8'));
  let containerNs = 0;
  const r = await run(
    { argv: ['/bin/busybox', 'sh', '-c', 'cat /proc/uptime; cat /proc/self/timens_offsets; sleep 0.2'], features: [time({ boottime: offset, monotonic: offset })] },
    (child) => { containerNs = nsInode(child.pid, 'time'); },
  );
  if (r.code !== 0) throw new Error(`the container exited ${r.status}: ${r.stderr}`);
  const hostAfter = uptime(readFileSync('/proc/uptime', 'utf8'));
  const [up = '', ...offsets] = r.stdout.trim().split('\n');
  return { hostBefore, hostAfter, container: uptime(up), offsets: offsets.join('\n'), hostNs: nsInode('self', 'time'), containerNs };
}

export default defineChapter({
  n: 8,
  slug: 'time',
  title: 'The time namespace',
  titleKo: '타임 네임스페이스',
  async run(show) {
    const year = 365 * 24 * 3600;
    show.say('A child unshares a time namespace, writes "monotonic 31536000 0" and "boottime 31536000 0" to /proc/self/timens_offsets, then runs busybox: its uptime is a year longer.');
    const o = await observe(year);
    show.sideBySide({
      host: `time namespace ${o.hostNs}\nuptime: ${o.hostBefore.toFixed(0)} s\n(after: ${o.hostAfter.toFixed(0)} s)`,
      container: `time namespace ${o.containerNs}\nuptime: ${o.container.toFixed(0)} s\n${o.offsets}`,
    });
  },
});
