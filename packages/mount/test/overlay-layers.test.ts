// rootfs({ overlay: { lower } }): an image's layers, topmost first, merged by
// overlayfs under one writable upper dir — as a container of a stored image
// gets them. Observed from inside (what the shell sees, mountinfo's
// lowerdir) and from outside (upper and the layers on the host).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@nsk/syscall';
import { busyboxRootfs } from '@nsk/rootfs';
import { hostState, leftSince, run } from '@nsk/testkit';
import { rootfs, type RootfsOptions } from '../src/index.ts';

const before = hostState();
const base = mkdtempSync(join(tmpdir(), 'nsk-mount-layers-'));
const bottom = busyboxRootfs(join(base, 'bottom'));
// The middle layer: a new file, a changed file, a whiteout hiding
// /etc/hostname, and /srv a symlink to /data (absolute: resolved in the image).
const middle = join(base, 'middle');
mkdirSync(join(middle, 'etc'), { recursive: true });
mkdirSync(join(middle, 'data'));
writeFileSync(join(middle, 'etc/layer'), 'middle\n');
writeFileSync(join(middle, 'etc/passwd'), 'root:x:0:0:middle:/root:/bin/sh\n');
execFileSync('mknod', [join(middle, 'etc/hostname'), 'c', '0', '0']); // overlayfs.rst: a whiteout
symlinkSync('/data', join(middle, 'srv'));
// The top layer overrides the middle one's file.
const top = join(base, 'top');
mkdirSync(join(top, 'etc'), { recursive: true });
writeFileSync(join(top, 'etc/layer'), 'top\n');
const snapshot = (dir: string) => execFileSync('find', [dir, '-printf', '%p %y %s %T@\n'], { encoding: 'utf8' });
const layersBefore = [top, middle, bottom].map(snapshot);

test.after.always('nothing is left behind; the layers are unchanged', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.mounts.filter((m) => m.startsWith(base)), []);
  t.deepEqual(left.children, []);
  t.deepEqual(left.fds, []);
  t.deepEqual([top, middle, bottom].map(snapshot), layersBefore);
  rmSync(base, { recursive: true, force: true });
});

function fresh(name: string): { upper: string; work: string; target: string } {
  const d = join(base, name);
  for (const s of ['upper', 'work', 'merged']) mkdirSync(join(d, s), { recursive: true });
  return { upper: join(d, 'upper'), work: join(d, 'work'), target: join(d, 'merged') };
}

const sh = (script: string, o: RootfsOptions) =>
  run({ argv: ['/bin/sh', '-c', script], namespaces: ['pid', 'ipc', 'uts'], features: [rootfs(o)] });

test.serial('several lower layers merge topmost first; whiteouts hide; writes land in upper only', async (t) => {
  const { upper, work, target } = fresh('c1');
  const r = await sh('cat /etc/layer; head -1 /etc/passwd; test -e /etc/hostname && echo has-hostname || echo no-hostname; '
    + 'echo written > /root/note; echo more >> /etc/layer; grep " / / " /proc/self/mountinfo',
  { path: target, overlay: { lower: [top, middle, bottom], upper, work } });
  t.is(r.code, 0, r.stderr);
  const [layer, passwd, hostname, mountLine] = r.stdout.trim().split('\n');
  t.is(layer, 'top');
  t.is(passwd, 'root:x:0:0:middle:/root:/bin/sh');
  t.is(hostname, 'no-hostname');
  // mountinfo's super options name the layers in the order given.
  t.true(mountLine!.includes(` overlay overlay `), mountLine);
  t.regex(mountLine!, new RegExp(`lowerdir=${top}:${middle}:${bottom}`));
  t.is(readFileSync(join(upper, 'root/note'), 'utf8'), 'written\n');
  t.is(readFileSync(join(upper, 'etc/layer'), 'utf8'), 'top\nmore\n');
  t.is(readFileSync(join(top, 'etc/layer'), 'utf8'), 'top\n');
  t.false(existsSync(join(bottom, 'root/note')));
  t.deepEqual(readdirSync(target), [], 'the mount point is empty again on the host');
});

test.serial('a volume under a symlink of a lower layer is resolved inside the image, made in upper, and removed after', async (t) => {
  const { upper, work, target } = fresh('c2');
  const vol = join(base, 'vol');
  mkdirSync(vol);
  writeFileSync(join(vol, 'data'), 'from the host\n');
  // /srv -> /data is a symlink in the middle layer: the bind must land on the
  // image's /data/v, never on the host's /data.
  const r = await sh('cat /srv/v/data; cat /data/v/data', { path: target, overlay: { lower: [top, middle, bottom], upper, work }, volumes: [{ source: vol, target: '/srv/v' }] });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'from the host\nfrom the host\n');
  t.false(existsSync('/data/v'));
  t.false(existsSync(join(upper, 'data/v')), 'the mount point made for the volume is removed');
  t.false(existsSync(join(middle, 'data/v')));
});

test.serial('the default lower is path itself (the single-directory overlay of before)', async (t) => {
  const { upper, work } = fresh('c3');
  const r = await sh('echo x > /root/y; cat /etc/hostname', { path: bottom, overlay: { upper, work } });
  t.is(r.stdout, 'nsk\n', r.stderr);
  t.true(statSync(join(upper, 'root/y')).isFile());
});

test('bad lower lists are refused with a ValidationError before any clone', (t) => {
  const { upper, work, target } = fresh('c4');
  const bad: Array<[unknown, RegExp]> = [
    [[], /overlay.lower: give at least one lower directory/],
    ['/tmp', /rootfs.overlay.lower: must be a list/],
    [[join(base, 'missing')], /overlay.lower\[0\]: .* is not a directory/],
    [[top, 'relative'], /overlay.lower\[1\]: must be an absolute path/],
    [[join(base, 'a:b')], /overlay.lower\[0\]/],
  ];
  mkdirSync(join(base, 'a:b'));
  for (const [lower, message] of bad) {
    t.throws(() => rootfs({ path: target, overlay: { upper, work, lower: lower as string[] } }), { instanceOf: ValidationError, message }, JSON.stringify(lower));
  }
  // The merged view must have /proc: an empty layer alone has none.
  t.throws(() => rootfs({ path: target, overlay: { upper, work, lower: [top] } }), { instanceOf: ValidationError, message: /has no \/proc/ });
});
