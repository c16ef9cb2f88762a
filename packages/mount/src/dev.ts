// A minimal /dev, made before pivot_root while the host's /dev is reachable.
// Device nodes are bind-mounted from the host rather than made with mknod(2):
// a user namespace may not create device nodes, but it may bind existing ones
// (this is what runc does for rootless containers).
import { AT, MS, O } from '@nsk/syscall';
import type { Plan } from '@nsk/clone';

export const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;

export function planDev(plan: Plan, root: string): void {
  const dev = `${root}/dev`;
  plan.mount('tmpfs', dev, 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k', { label: 'mount a tmpfs on /dev' });
  for (const name of DEVICES) {
    const fd = plan.openat(AT.FDCWD, `${dev}/${name}`, O.CREAT | O.WRONLY, 0o666, { label: `create /dev/${name} to bind onto` });
    plan.close(fd);
    plan.mount(`/dev/${name}`, `${dev}/${name}`, null, MS.BIND, null);
  }
  for (const dir of ['pts', 'shm']) plan.mkdirat(AT.FDCWD, `${dev}/${dir}`, 0o755);
  // devpts(5): newinstance gives the container its own pty numbers.
  plan.mount('devpts', `${dev}/pts`, 'devpts', MS.NOSUID | MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=620', { label: 'mount a new devpts instance on /dev/pts' });
  plan.mount('shm', `${dev}/shm`, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=1777,size=65536k');
  for (const [link, target] of [['ptmx', 'pts/ptmx'], ['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2']] as const) {
    plan.symlinkat(target, AT.FDCWD, `${dev}/${link}`);
  }
}
