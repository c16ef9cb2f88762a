// (c) Devices: a container root that could make and open a node for the
// host's disk would read (or write) the host's filesystem underneath every
// other defence. nsk's seccomp profile refuses mknod(2) of device nodes
// (without CAP_SYS_ADMIN), and /dev holds only runc's minimal set. The
// control — root over the same rootfs with no filter — makes and opens the
// node (read-only, one sector: never a write). Rootless, the kernel itself
// refuses device nodes in a user namespace (mknod(2): EPERM), which the
// rootless control shows too.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostState, leftSince } from '@nsk/testkit';
import { asNobody, makeLab, rootDevice } from './hardening-lab.ts';
import { parseProbe } from './hardening-payload.ts';
import { SCENARIOS, type Seen } from './hardening-scenarios.ts';

const before = hostState();
const lab = makeLab();

/**
 * The block device to attack: the root disk's when the host itself may
 * open it, else the first one it may (a sandbox around this machine may
 * refuse the root disk even to root: then a loop device stands in).
 */
function target(): { major: number; minor: number } {
  const candidates = [rootDevice(), ...readdirSync('/sys/dev/block').map((d) => { const [major, minor] = d.split(':').map(Number) as [number, number]; return { major, minor }; })];
  for (const c of candidates) {
    const out = parseProbe(execFileSync(lab.probe, ['mknod', 'host', join(lab.dir, 'disk'), String(c.major), String(c.minor)], { encoding: 'utf8' }));
    if (out.host_open === 'OK') return c;
  }
  throw new Error('the host can open none of its block devices');
}
const disk = target();

// runc's /dev: six devices, devpts, shm, mqueue and the links.
const ALLOWED_DEV = ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'shm', 'mqueue', 'fd', 'stdin', 'stdout', 'stderr', 'ptmx', 'core', 'console'];
// major:minor in hex as busybox stat prints them: mem devices 1:3,5,7,8,9; tty 5:0; the pts ptmx 5:2; ptys 136:*.
const ALLOWED_NODES = /^(1:[35789]|5:0|5:2|136:\w+)$/;

test.after.always('nothing is left behind: no mount, no process', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});

interface R { nsk: Seen; unconfined: Seen; control: Seen }

function check(t: ExecutionContext, r: R, rootless: boolean) {
  t.log(`attacking block device ${disk.major}:${disk.minor}`);
  const { nsk, control } = r;
  t.is(nsk.status, 0, nsk.stderr);
  t.is(nsk.probe.dev_mknod, 'EPERM', 'mknod in /dev');
  t.is(nsk.probe.tmp_mknod, 'EPERM', 'mknod in /tmp');
  t.is(nsk.probe.dev_open, 'ENOENT');
  t.is(nsk.probe.tmp_open, 'ENOENT');
  const entries = nsk.probe.dev_entries!.split(',').filter(Boolean);
  t.deepEqual(entries.filter((e) => !ALLOWED_DEV.includes(e)), [], '/dev holds only the default entries');
  const nodes = nsk.lines.filter((l) => l.startsWith('node '));
  t.deepEqual(nodes.filter((l) => l.includes('block')), [], 'no block device at all');
  t.deepEqual(nodes.filter((l) => !ALLOWED_NODES.test(l.split(' ').at(-2)!)), [], 'only the default character devices');
  t.true(nodes.length >= 6);

  t.is(control.status, 0, control.stderr);
  if (rootless) {
    t.is(control.probe.dev_mknod, 'EPERM', 'rootless control: the kernel refuses device nodes in a user namespace');
  } else {
    t.is(control.probe.dev_mknod, 'OK', 'control: mknod works');
    t.is(control.probe.dev_open, 'OK', 'control: the host’s disk opens');
  }
  t.log(`seccomp unconfined only: mknod ${r.unconfined.probe.dev_mknod}, open ${r.unconfined.probe.dev_open}`);
}

test('rootful: mknod of the host’s disk fails (seccomp), /dev has only the default nodes; root with no filter opens the disk', async (t) => {
  check(t, (await SCENARIOS.devices!(lab, false, disk as unknown as Record<string, unknown>)) as R, false);
});

test('rootless: mknod of the host’s disk fails, /dev has only the default nodes', async (t) => {
  check(t, await asNobody<R>(lab, 'devices', disk as unknown as Record<string, unknown>), true);
});
