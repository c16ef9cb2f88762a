// The device allow-list: which device nodes the container may open, whatever
// nodes it manages to make (CAP_MKNOD is one of Docker's defaults; the
// default seccomp profile refuses mknod(2) of devices, a custom or
// 'unconfined' one does not). cgroup v1's devices controller
// (Documentation/admin-guide/cgroup-v1/devices.rst): "a" denied, then the
// devices runc gives a container allowed; making nodes (`m`) stays allowed,
// opening them does not.
//
// Only where a v1 `devices` hierarchy is mounted (v1 and hybrid hosts): on
// cgroup v2 the same list is a BPF_PROG_TYPE_CGROUP_DEVICE program, not
// written yet. Rootless containers cannot have one (v1 is not delegated).
import { closeSync, mkdirSync, openSync, rmdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { NskError } from '@nsk/syscall';
import type { Layout } from '@nsk/cgroup';

/** Docker's (moby's DefaultLinuxSpec) allow-list, after `a` is denied. */
export const ALLOWED_DEVICES: readonly string[] = [
  'c *:* m', 'b *:* m', // make any node; open none but these:
  'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', // null zero full random urandom
  'c 5:0 rwm', 'c 5:2 rwm', 'c 136:* rwm', // tty, ptmx, the pts (the container's terminal too)
  'c 10:200 rwm', // net/tun
];

/** The group's directory in the v1 devices hierarchy, or null when there is none. */
export function deviceGroupDir(layout: Layout, group: string): string | null {
  const h = layout.v1.find((x) => x.controllers.includes('devices'));
  return h ? join(h.mountPoint, group) : null;
}

/** One write(2) per value, on one open of the file: cgroupfs parses each write on its own. */
function write(dir: string, file: string, ...values: string[]): void {
  const path = join(dir, file);
  let fd = -1;
  let value = '';
  try {
    fd = openSync(path, 'w');
    for (value of values) writeSync(fd, value);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new NskError(`set the device allow-list: write "${value}" to ${path}: ${code}`, code, { cause: err });
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** mkdir of the group, with nothing allowed but ALLOWED_DEVICES. Removes it again if a write fails. */
export function makeDeviceGroup(dir: string): void {
  mkdirSync(dir);
  try {
    // A new group inherits its parent's list; start from nothing.
    write(dir, 'devices.deny', 'a');
    write(dir, 'devices.allow', ...ALLOWED_DEVICES);
  } catch (err) {
    rmdirSync(dir);
    throw err;
  }
}

/**
 * rmdir of the group once its tasks are gone; rmdir(2) of a group whose
 * last task just exited may answer EBUSY for a moment.
 */
export async function removeDeviceGroup(dir: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || performance.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
