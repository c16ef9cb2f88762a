// ipc_namespaces(7): an IPC namespace holds System V IPC objects (shared
// memory, semaphores, message queues) and POSIX message queues, with their
// limits in /proc/sys/kernel/{shm*,sem,msg*} and /proc/sys/fs/mqueue. A new
// one starts empty; when its last process ends, the kernel frees them all.
import { CLONE } from '@nsk/syscall';
import type { Feature } from '@nsk/clone';

/**
 * A Feature: a new IPC namespace. It needs no steps. Stands for `unshare --ipc`.
 *
 * POSIX queues are seen through an mqueue filesystem, which shows the IPC
 * namespace of whoever mounted it (mq_overview(7)): a container lists its own
 * only if it mounts one on /dev/mqueue after clone. That mount is @nsk/mount's.
 */
export function ipc(): Feature {
  return { name: 'ipc', cloneFlags: CLONE.NEWIPC };
}
