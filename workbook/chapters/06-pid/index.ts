// Chapter 6: the pid namespace. The container's first process is PID 1 of
// its own numbering; the host still sees it, under another pid.
import { rootfs } from '@nsk/mount';
import { nsPids, pid } from '@nsk/pid';
import { readdirSync } from 'node:fs';
import { defineChapter } from '../../src/chapter.ts';
import { converse, nsInode, scratchRootfs } from '../../src/lab.ts';

export interface PidObservation {
  /** `echo $$` inside. */
  shellPid: number;
  /** `ps` inside: pid and command of every process it lists. */
  ps: Array<{ pid: number; command: string }>;
  /** Our pid for the container's shell, and its NSpid line. */
  hostPid: number;
  nsPids: number[];
  /** How many processes the host's /proc lists (the container's ps lists a handful). */
  hostProcessCount: number;
  hostNs: number;
  containerNs: number;
}

export async function observe(root: string): Promise<PidObservation> {
  const c = await converse({
    argv: ['/bin/sh', '-c', 'echo $$; read go; ps -o pid,comm; exit 0'],
    features: [pid(), rootfs({ path: root })],
  });
  try {
    const shellPid = Number(await c.line());
    const hostPid = c.child.pid;
    const seen = { hostPid, nsPids: nsPids(hostPid), hostNs: nsInode('self', 'pid'), containerNs: nsInode(hostPid, 'pid') };
    const hostProcessCount = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).length;
    c.send('go');
    const { status, rest } = await c.end();
    if (status !== 0) throw new Error(`the container exited ${status}`);
    const ps = rest.slice(1).map((l) => l.trim().split(/\s+/)).map(([p, command]) => ({ pid: Number(p), command: command! }));
    return { shellPid, ps, hostProcessCount, ...seen };
  } finally {
    c.child.kill('SIGKILL');
    await c.child.exited;
  }
}

export default defineChapter({
  n: 6,
  slug: 'pid',
  title: 'The PID namespace',
  titleKo: 'PID 네임스페이스',
  async run(show) {
    const root = scratchRootfs();
    try {
      show.say('A shell in a new pid namespace prints its own pid ($$), then runs ps. Meanwhile the host looks the same process up in its /proc.');
      const o = await observe(root.path);
      show.sideBySide({
        host: `pid namespace ${o.hostNs}\nthe shell is pid ${o.hostPid}\nNSpid: ${o.nsPids.join(' ')}\n${o.hostProcessCount} processes in /proc`,
        container: `pid namespace ${o.containerNs}\necho $$ → ${o.shellPid}\nps:\n${o.ps.map((p) => `${String(p.pid).padStart(5)} ${p.command}`).join('\n')}`,
      });
      show.say('NSpid lists the pid in every namespace the process is in, from the host’s inward: the same process is both.');
    } finally {
      root.dispose();
    }
  },
});
