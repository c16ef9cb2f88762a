// Chapter 3: the mount namespace. A child gets its own copy of the mount
// table; after making every mount private, nothing it mounts reaches the
// host and nothing the host mounts later reaches it.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLONE, MNT, MS, mount, umount2 } from '@nsk/syscall';
import { Plan } from '@nsk/clone';
import { defineChapter } from '../../src/chapter.ts';
import { converse, nsInode, scratchDir } from '../../src/lab.ts';

export interface MountObservation {
  hostNs: number;
  containerNs: number;
  /** The container's tmpfs, seen in its own mountinfo / in the host's. */
  insideSeesOwn: boolean;
  hostSeesInside: boolean;
  /** A tmpfs the host mounts after the container started, seen by the host / by the container. */
  hostSeesOwn: boolean;
  insideSeesHost: boolean;
}

const mounted = (mountinfo: string, source: string) => mountinfo.split('\n').some((l) => l.split(' - ')[1]?.split(' ')[1] === source);

/**
 * Runs the experiment in `dir` (a scratch directory): the container mounts
 * a tmpfs named `nsk-inside` on dir/inside; then the host mounts one named
 * `nsk-host` on dir/host; both sides look at their mountinfo.
 */
export async function observe(dir: string): Promise<MountObservation> {
  mkdirSync(join(dir, 'inside'), { recursive: true });
  mkdirSync(join(dir, 'host'), { recursive: true });
  const plan = new Plan();
  // mount_namespaces(7): the new namespace's mounts start as copies; on a
  // host where / is shared (systemd makes it so), mounts would propagate
  // both ways. Private, recursively, before anything else.
  plan.mount(null, '/', null, MS.REC | MS.PRIVATE, null, { label: 'make every mount private' });
  const script = `mount -t tmpfs nsk-inside '${dir}/inside' && echo mounted && read go && cat /proc/self/mountinfo`;
  const c = await converse({ argv: ['/bin/busybox', 'sh', '-c', script], features: [{ name: 'mount', cloneFlags: CLONE.NEWNS }], plan });
  let hostMounted = false;
  try {
    if ((await c.line()) !== 'mounted') throw new Error('the container did not mount its tmpfs');
    const containerNs = nsInode(c.child.pid, 'mnt');
    const hostSeesInside = mounted(readFileSync('/proc/self/mountinfo', 'utf8'), 'nsk-inside');
    mount('nsk-host', join(dir, 'host'), 'tmpfs', 0, null);
    hostMounted = true;
    const hostSeesOwn = mounted(readFileSync('/proc/self/mountinfo', 'utf8'), 'nsk-host');
    c.send('go');
    const { status, rest } = await c.end();
    if (status !== 0) throw new Error(`the container exited ${status}`);
    const inside = rest.join('\n');
    return { hostNs: nsInode('self', 'mnt'), containerNs, insideSeesOwn: mounted(inside, 'nsk-inside'), hostSeesInside, hostSeesOwn, insideSeesHost: mounted(inside, 'nsk-host') };
  } finally {
    if (hostMounted) umount2(join(dir, 'host'), MNT.DETACH);
    c.child.kill('SIGKILL');
    await c.child.exited;
  }
}

export default defineChapter({
  n: 3,
  slug: 'mount',
  title: 'The mount namespace',
  titleKo: '마운트 네임스페이스',
  async run(show) {
    const dir = scratchDir();
    try {
      show.say('A child in a new mount namespace mounts a tmpfs called nsk-inside; then the host mounts one called nsk-host. Each side reads /proc/self/mountinfo.');
      const o = await observe(dir.path);
      show.sideBySide({
        host: `mnt namespace ${o.hostNs}\nsees nsk-inside: ${o.hostSeesInside}\nsees nsk-host:   ${o.hostSeesOwn}`,
        container: `mnt namespace ${o.containerNs}\nsees nsk-inside: ${o.insideSeesOwn}\nsees nsk-host:   ${o.insideSeesHost}`,
      });
    } finally {
      dir.dispose();
    }
  },
});
