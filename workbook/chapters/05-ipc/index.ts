// Chapter 5: the IPC namespace — System V IPC objects and POSIX message
// queues of the container's own.
import { Plan, num } from '@nsk/clone';
import { IPC, ipc, shmCreate, shmList, shmRemove } from '@nsk/ipc';
import { defineChapter } from '../../src/chapter.ts';
import { converse, nsInode } from '../../src/lab.ts';

export interface IpcObservation {
  /** Keys of the shm segments each side lists in /proc/sysvipc/shm. */
  hostKeys: number[];
  containerKeys: number[];
  hostNs: number;
  containerNs: number;
}

const keysIn = (sysvipcShm: string) => sysvipcShm.trim().split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0]));

/**
 * The host makes a segment with key `hostKey`; the container makes one with
 * `containerKey` (a shmget(2) step in its plan, what `ipcmk -M` would do);
 * each side lists what it sees.
 */
export async function observe(hostKey: number, containerKey: number): Promise<IpcObservation> {
  const id = shmCreate(4096, { key: hostKey });
  try {
    const plan = new Plan();
    plan.add('shmget', [num(containerKey), num(4096), num(IPC.CREAT | 0o600, 'IPC_CREAT|0600')], `make a shared-memory segment with key ${containerKey}`);
    const c = await converse({ argv: ['/bin/busybox', 'sh', '-c', 'echo ready; read go; cat /proc/sysvipc/shm'], features: [ipc()], plan });
    try {
      await c.line();
      const hostKeys = shmList().map((s) => s.key);
      const containerNs = nsInode(c.child.pid, 'ipc');
      c.send('go');
      const { status, rest } = await c.end();
      if (status !== 0) throw new Error(`the container exited ${status}`);
      // The container's segment went with its namespace (ipc_namespaces(7)).
      return { hostKeys, containerKeys: keysIn(rest.join('\n')), hostNs: nsInode('self', 'ipc'), containerNs };
    } finally {
      c.child.kill('SIGKILL');
      await c.child.exited;
    }
  } finally {
    shmRemove(id);
  }
}

export default defineChapter({
  n: 5,
  slug: 'ipc',
  title: 'The IPC namespace',
  titleKo: 'IPC 네임스페이스',
  async run(show) {
    show.say('The host makes a shared-memory segment with key 0x4e534b01; a child in a new IPC namespace makes one with key 0x4e534b02. Each side lists /proc/sysvipc/shm.');
    const o = await observe(0x4e534b01, 0x4e534b02);
    const hex = (ks: number[]) => ks.map((k) => `0x${(k >>> 0).toString(16)}`).join('\n') || '(none)';
    show.sideBySide({ host: `ipc namespace ${o.hostNs}\nsegments:\n${hex(o.hostKeys)}`, container: `ipc namespace ${o.containerNs}\nsegments:\n${hex(o.containerKeys)}` });
  },
});
