// A minimal /dev, the one runc gives a container: six devices, a private
// devpts, /dev/shm, /dev/mqueue and the usual symlinks. Made before
// pivot_root, while the host's /dev is in reach.
//
// Device nodes are bind-mounted from the host rather than made with
// mknod(2): a user namespace may not create device nodes, but it may bind
// existing ones (what runc does for rootless containers).
import { existsSync } from 'node:fs';
import { AT, MS, O } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';
import { absolute } from './check.ts';

export const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;

/** `/dev/NAME` → target, as runc links them. */
export const DEV_SYMLINKS: ReadonlyArray<readonly [string, string]> = [
  ['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'],
  ['ptmx', 'pts/ptmx'],
];

export interface DevOptions {
  /**
   * Mount an mqueue filesystem on /dev/mqueue. Default true. mq_overview(7):
   * it shows the message queues of the mounting process's IPC namespace, so
   * it isolates only with a new IPC namespace; in a user namespace the
   * kernel refuses it (EPERM) unless the IPC namespace is new as well.
   */
  mqueue?: boolean;
}

/** The steps that make `${root}/dev`. */
export function planDev(plan: Plan, root: string, o: DevOptions = {}): void {
  const dev = `${absolute('dev.root', root).replace(/\/$/, '')}/dev`;
  plan.mount('tmpfs', dev, 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k', { label: `mount a tmpfs on ${dev}` });
  for (const name of DEVICES) {
    const fd = plan.openat(AT.FDCWD, `${dev}/${name}`, O.CREAT | O.WRONLY, 0o666, { label: `create ${dev}/${name} to bind the device onto` });
    plan.close(fd, { label: `close ${dev}/${name}` });
    plan.mount(`/dev/${name}`, `${dev}/${name}`, null, MS.BIND, null, { label: `bind the host’s /dev/${name} on ${dev}/${name}` });
  }
  plan.mkdirat(AT.FDCWD, `${dev}/pts`, 0o755, { label: `create ${dev}/pts` });
  // devpts(5): newinstance gives the container its own pty numbering, not
  // the host's ptys; ptmxmode=0666 lets everyone open its ptmx.
  plan.mount('devpts', `${dev}/pts`, 'devpts', MS.NOSUID | MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=0620', { label: `mount a new devpts instance on ${dev}/pts` });
  plan.mkdirat(AT.FDCWD, `${dev}/shm`, 0o755, { label: `create ${dev}/shm` });
  plan.mount('shm', `${dev}/shm`, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=1777,size=65536k', { label: `mount a tmpfs on ${dev}/shm (POSIX shared memory)` });
  if (o.mqueue ?? true) {
    plan.mkdirat(AT.FDCWD, `${dev}/mqueue`, 0o755, { label: `create ${dev}/mqueue` });
    plan.mount('mqueue', `${dev}/mqueue`, 'mqueue', MS.NOSUID | MS.NODEV | MS.NOEXEC, null, { label: `mount the IPC namespace’s message queues on ${dev}/mqueue` });
  }
  // runc links /dev/core to /proc/kcore when the kernel has one
  // (CONFIG_PROC_KCORE); /proc/kcore itself is masked.
  const links = existsSync('/proc/kcore') ? [...DEV_SYMLINKS, ['core', '/proc/kcore'] as const] : DEV_SYMLINKS;
  for (const [link, target] of links) plan.symlinkat(target, AT.FDCWD, `${dev}/${link}`, { label: `link ${dev}/${link} to ${target}` });
}
