// What the child finds in /proc, /sys and /dev: runc's masked and read-only
// paths, a read-only sysfs of its own, and runc's minimal /dev. Every claim
// is compared with the host, where the same path shows the real thing.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs } from '@nsk/rootfs';
import { gethostname } from '@nsk/syscall';
import { hostState, leftSince, run } from '@nsk/testkit';
import { MASKED_PATHS, parseMountInfo, readMountInfo, rootfs, type RootfsOptions } from '../src/index.ts';

const before = hostState();
const host = gethostname();
const base = mkdtempSync(join(tmpdir(), 'nsk-mount-psd-'));
const root = busyboxRootfs(join(base, 'root'));

test.after.always('nothing is left behind, and the host’s hostname is unchanged', (t) => {
  rmSync(base, { recursive: true, force: true });
  const left = leftSince(before);
  // Only mounts under this file's directory count: the other test files,
  // running alongside in other processes, mount under theirs.
  t.deepEqual(left.mounts.filter((m) => m.startsWith(base)), []);
  t.deepEqual(left.children, []);
  t.deepEqual(left.fds, []);
  t.is(gethostname(), host);
});

async function sh(script: string, o: Partial<RootfsOptions> = {}): Promise<{ out: string[]; err: string }> {
  const r = await run({ argv: ['/bin/sh', '-c', script], namespaces: ['pid', 'ipc', 'net', 'uts'], features: [rootfs({ path: root, ...o })] });
  return { out: r.stdout.trim().split('\n'), err: r.stderr };
}

test('masked files are /dev/null: they read empty where the host’s are not', async (t) => {
  const files = MASKED_PATHS.filter((p) => existsSync(p) && !readdirOk(p));
  t.true(files.includes('/proc/timer_list'), 'this kernel has /proc/timer_list to mask');
  t.true(readFileSync('/proc/timer_list', 'utf8').length > 0, 'the host’s is not empty');
  const { out } = await sh(files.map((f) => `stat -c '%n %F %t:%T' ${f}; wc -c < ${f}`).join('; '));
  t.deepEqual(out, files.flatMap((f) => [`${f} character special file 1:3`, '0']));
});

test('masked directories are empty read-only tmpfs: listing shows nothing, creating fails with EROFS', async (t) => {
  const dirs = MASKED_PATHS.filter((p) => existsSync(p) && readdirOk(p));
  t.true(dirs.includes('/sys/firmware'), 'this kernel has /sys/firmware to mask');
  t.true(readdirSync('/sys/firmware').length > 0, 'the host’s is not empty');
  const { out, err } = await sh(dirs.map((d) => `ls -A ${d} | wc -l; touch ${d}/x`).join('; '));
  t.deepEqual(out, dirs.map(() => '0'));
  t.deepEqual(err.trim().split('\n'), dirs.map((d) => `touch: ${d}/x: Read-only file system`));
  const mounts = await sh('cat /proc/self/mountinfo');
  for (const d of dirs) {
    const m = parseMountInfo(mounts.out.join('\n')).find((x) => x.mountPoint === d);
    t.is(m?.fsType, 'tmpfs', d);
    t.is(m?.options[0], 'ro', d);
  }
});

test('/proc/sys is read-only: even root inside cannot write a sysctl (EROFS), and the other read-only paths are ro mounts', async (t) => {
  // In a UTS namespace of its own: if the write went through, only the
  // container's hostname would change (and the test would fail).
  const { out, err } = await sh('echo nsk-changed > /proc/sys/kernel/hostname; hostname; id -u; grep -E " /proc/(bus|fs|irq|sys|sysrq-trigger) " /proc/self/mountinfo | cut -d" " -f5,6');
  t.is(err, "/bin/sh: can't create /proc/sys/kernel/hostname: Read-only file system\n");
  const [name, uid, ...mounts] = out;
  t.is(name, host);
  t.is(uid, '0');
  const expected = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'].filter((p) => existsSync(p));
  t.deepEqual(mounts, expected.map((p) => `${p} ro,nosuid,nodev,noexec,relatime`));
});

test('/sys is a read-only sysfs of the child’s own network namespace', async (t) => {
  const { out, err } = await sh('touch /sys/nsk-test; ls /sys/class/net; awk \'$5 == "/sys" { print $6, $9 }\' /proc/self/mountinfo');
  // On a writable sysfs creating a file fails with EACCES; read-only, EROFS comes first.
  t.is(err, 'touch: /sys/nsk-test: Read-only file system\n');
  t.deepEqual(out, ['lo', 'ro,nosuid,nodev,noexec,relatime sysfs']);
  t.true(readdirSync('/sys/class/net').length > 1, 'the host has more than lo');
});

test('/dev holds exactly runc’s devices and links, and /dev/pts is a new devpts instance', async (t) => {
  const { out } = await sh('ls -A /dev; echo; stat -c "%n %t:%T" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; ls -A /dev/pts; echo; cat /proc/self/mountinfo');
  const sep = out.indexOf('');
  const listing = out.slice(0, sep);
  const expected = ['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero'];
  if (existsSync('/proc/kcore')) expected.push('core');
  t.deepEqual(listing.sort(), expected.sort());
  t.deepEqual(out.slice(sep + 1, sep + 7), ['/dev/null 1:3', '/dev/zero 1:5', '/dev/full 1:7', '/dev/random 1:8', '/dev/urandom 1:9', '/dev/tty 5:0']);
  t.deepEqual(out.slice(sep + 7, sep + 12), ['/proc/self/fd', '/proc/self/fd/0', '/proc/self/fd/1', '/proc/self/fd/2', 'pts/ptmx']);
  t.deepEqual(out.slice(sep + 12, sep + 13), ['ptmx'], 'no pty of the host’s in /dev/pts');
  const inside = parseMountInfo(out.slice(out.indexOf('', sep + 1) + 1).join('\n'));
  const pts = inside.find((m) => m.mountPoint === '/dev/pts')!;
  t.is(pts.fsType, 'devpts');
  t.true(pts.superOptions.includes('ptmxmode=666'), pts.superOptions.join(','));
  const hostPts = readMountInfo().filter((m) => m.fsType === 'devpts').map((m) => m.device);
  t.false(hostPts.includes(pts.device), `a superblock of its own (${pts.device}), not one of the host’s (${hostPts.join(', ')})`);
  const mq = inside.find((m) => m.mountPoint === '/dev/mqueue')!;
  t.is(mq.fsType, 'mqueue');
  t.deepEqual(inside.find((m) => m.mountPoint === '/dev/shm')?.options.slice(0, 4), ['rw', 'nosuid', 'nodev', 'noexec']);
});

test('the lists are options: none masked, none read-only, no /sys, no mqueue', async (t) => {
  const { out } = await sh('cat /proc/self/mountinfo', { masked: [], readonlyPaths: [], sys: false, mqueue: false });
  const points = parseMountInfo(out.join('\n')).map((m) => m.mountPoint);
  t.deepEqual(points.filter((p) => p.startsWith('/proc') || p.startsWith('/sys') || p === '/dev/mqueue'), ['/proc']);
});

function readdirOk(p: string): boolean {
  try {
    readdirSync(p);
    return true;
  } catch {
    return false;
  }
}
