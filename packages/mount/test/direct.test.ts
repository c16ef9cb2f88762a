// The direct calls, made in this (the test's) mount namespace on the host,
// on temporary directories: each is observed in mountinfo and through the
// files, then undone.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MS, SyscallError, ValidationError } from '@nsk/syscall';
import { hostState, leftSince } from '@nsk/testkit';
import { bind, mount, mountOf, overlay, propagation, readMountInfo, tmpfs, unmount } from '../src/index.ts';

const before = hostState();
const base = mkdtempSync(join(tmpdir(), 'nsk-mount-direct-'));

test.after.always('nothing is left behind', (t) => {
  rmSync(base, { recursive: true, force: true });
  const left = leftSince(before);
  // Only mounts under this file's directory count: the other test files,
  // running alongside in other processes, mount under theirs.
  t.deepEqual(left.mounts.filter((m) => m.startsWith(base)), []);
  t.deepEqual(left.children, []);
  t.deepEqual(left.fds, []);
});

/** A fresh directory under the test's temporary base. */
function dir(...parts: string[]): string {
  const d = join(base, ...parts);
  mkdirSync(d, { recursive: true });
  return d;
}

/** Runs `body`, then unmounts `targets` (last first) whatever happened. */
function mounted(targets: string[], body: () => void): void {
  try {
    body();
  } finally {
    for (const t of [...targets].reverse()) {
      try { unmount(t); } catch { /* not mounted: the body failed before */ }
    }
  }
}

const errnoOf = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
};

test.serial('a read-only bind refuses writes with EROFS, keeps the source’s nosuid,nodev,noexec, and leaves the source writable', (t) => {
  // The source lies on a mount with nosuid,nodev,noexec: a remount that did
  // not repeat them would silently make the bind suid-capable.
  const src = dir('ro', 'src');
  const tgt = dir('ro', 'tgt');
  mounted([src, tgt], () => {
    tmpfs({ target: src, flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, size: '1m' });
    writeFileSync(join(src, 'file'), 'original\n');
    bind({ source: src, target: tgt, readonly: true });
    const m = mountOf(tgt);
    t.is(m.mountPoint, tgt);
    t.deepEqual(m.options.filter((o) => ['ro', 'rw', 'nosuid', 'nodev', 'noexec'].includes(o)), ['ro', 'nosuid', 'nodev', 'noexec']);
    t.is(errnoOf(() => writeFileSync(join(tgt, 'file'), 'changed\n')), 'EROFS');
    t.is(errnoOf(() => writeFileSync(join(tgt, 'new'), 'x')), 'EROFS');
    t.is(readFileSync(join(tgt, 'file'), 'utf8'), 'original\n');
    // The same files stay writable through the source.
    writeFileSync(join(src, 'file'), 'changed at the source\n');
    t.is(readFileSync(join(tgt, 'file'), 'utf8'), 'changed at the source\n');
    t.true(mountOf(src).options.includes('rw'));
  });
});

test.serial('a recursive read-only bind makes the mounts below it read-only too', (t) => {
  const src = dir('rec', 'src');
  const sub = dir('rec', 'src', 'sub');
  const tgt = dir('rec', 'tgt');
  mounted([sub, tgt], () => {
    tmpfs({ target: sub, size: '1m' });
    bind({ source: src, target: tgt, readonly: true, recursive: true });
    t.true(mountOf(tgt).options.includes('ro'));
    t.is(mountOf(join(tgt, 'sub')).mountPoint, join(tgt, 'sub'));
    t.true(mountOf(join(tgt, 'sub')).options.includes('ro'));
    t.is(errnoOf(() => writeFileSync(join(tgt, 'sub', 'x'), 'x')), 'EROFS');
    writeFileSync(join(sub, 'x'), 'x');
    t.true(mountOf(sub).options.includes('rw'));
    unmount(tgt, { detach: true });
  });
});

test.serial('tmpfs takes its size and mode, and is empty', (t) => {
  const at = dir('tmpfs');
  mounted([at], () => {
    tmpfs({ target: at, size: 2 * 1024 * 1024, mode: 0o1770, source: 'nsk-direct' });
    const m = mountOf(at);
    t.is(m.fsType, 'tmpfs');
    t.is(m.source, 'nsk-direct');
    t.true(m.superOptions.includes('size=2048k'), m.superOptions.join(','));
    t.true(m.superOptions.includes('mode=1770'), m.superOptions.join(','));
    t.deepEqual(m.options.filter((o) => o === 'nosuid' || o === 'nodev'), ['nosuid', 'nodev']);
    t.deepEqual(readdirSync(at), []);
  });
});

test.serial('mount() passes type, source, flags and data through; unmount() undoes it and names its step when it cannot', (t) => {
  const at = dir('plain');
  mounted([at], () => {
    mount({ type: 'tmpfs', source: 'nsk-plain', target: at, flags: MS.NOEXEC | MS.RDONLY, data: 'size=1m' });
    const m = mountOf(at);
    t.deepEqual([m.source, m.fsType, m.options[0], m.options.includes('noexec'), m.superOptions.includes('size=1024k')], ['nsk-plain', 'tmpfs', 'ro', true, true]);
  });
  const err = t.throws(() => unmount(at), { instanceOf: SyscallError });
  t.is(err.step, `unmount ${at}`);
  t.is(err.errno, 'EINVAL', 'umount2(2): target is not a mount point');
});

test.serial('an overlay sends writes to upper and leaves lower untouched', (t) => {
  const lower = dir('ov', 'lower');
  const upper = dir('ov', 'upper');
  const work = dir('ov', 'work');
  const merged = dir('ov', 'merged');
  writeFileSync(join(lower, 'image-file'), 'from the image\n');
  mounted([merged], () => {
    overlay({ target: merged, lower, upper, work });
    t.is(mountOf(merged).fsType, 'overlay');
    t.is(readFileSync(join(merged, 'image-file'), 'utf8'), 'from the image\n');
    writeFileSync(join(merged, 'image-file'), 'changed\n');
    writeFileSync(join(merged, 'new-file'), 'new\n');
    rmSync(join(merged, 'image-file'));
    t.deepEqual(readdirSync(merged), ['new-file']);
  });
  t.deepEqual(readdirSync(lower), ['image-file']);
  t.is(readFileSync(join(lower, 'image-file'), 'utf8'), 'from the image\n');
  // upper holds the new file and a whiteout (a 0:0 character device) for the removed one.
  t.deepEqual(readdirSync(upper).sort(), ['image-file', 'new-file']);
  t.true(readdirSync(upper, { withFileTypes: true }).find((e) => e.name === 'image-file')!.isCharacterDevice());
});

test.serial('propagation: shared mounts get a peer group, private ones lose it', (t) => {
  const at = dir('prop');
  mounted([at], () => {
    tmpfs({ target: at });
    propagation({ target: at, type: 'shared' });
    t.true(mountOf(at).optionalFields.some((f) => f.startsWith('shared:')));
    propagation({ target: at, type: 'private' });
    t.deepEqual(mountOf(at).optionalFields, []);
    propagation({ target: at, type: 'unbindable', recursive: false });
    t.deepEqual(mountOf(at).optionalFields, ['unbindable']);
    const errno = errnoOf(() => bind({ source: at, target: dir('prop-target') }));
    t.is(errno, 'EINVAL', 'mount(2): an unbindable mount cannot be bound');
  });
});

test.serial('a failing call names its step, the call and the errno; no mount is left', (t) => {
  const mounts = readMountInfo().length;
  const err = t.throws(() => bind({ source: dir('fail'), target: join(base, 'no-such-target') }), { instanceOf: SyscallError });
  t.is(err.errno, 'ENOENT');
  t.is(err.syscall, 'mount');
  t.regex(err.message, /^bind .*fail on .*no-such-target: mount\(.*\): ENOENT — .*does not exist/);
  t.is(readMountInfo().length, mounts);
});

test('bad options are refused before any mount', (t) => {
  const mounts = readMountInfo().length;
  t.throws(() => bind({ source: join(base, 'missing'), target: dir('x') }), { instanceOf: ValidationError, message: /bind.source: .* does not exist/ });
  t.throws(() => bind({ source: dir('x'), target: 'relative/target' }), { instanceOf: ValidationError, message: /bind.target: must be an absolute path/ });
  t.throws(() => tmpfs({ target: dir('x'), size: 0 }), { instanceOf: ValidationError, message: /tmpfs.size/ });
  t.throws(() => tmpfs({ target: dir('x'), size: '12 parsecs' }), { instanceOf: ValidationError, message: /tmpfs.size/ });
  t.throws(() => tmpfs({ target: dir('x'), mode: 0o17777 }), { instanceOf: ValidationError, message: /tmpfs.mode/ });
  // @ts-expect-error: upper is required
  t.throws(() => overlay({ target: dir('x'), lower: dir('x'), work: dir('w') }), { instanceOf: ValidationError, message: /overlay.upper/ });
  t.throws(() => overlay({ target: dir('x'), lower: dir('x'), upper: dir('u'), work: '/dev/shm' }), { instanceOf: ValidationError, message: /same filesystem/ });
  t.throws(() => overlay({ target: dir('x'), lower: dir('a,b'), upper: dir('u'), work: dir('w') }), { instanceOf: ValidationError, message: /cannot hold/ });
  // @ts-expect-error: not a propagation type
  t.throws(() => propagation({ target: dir('x'), type: 'toString' }), { instanceOf: ValidationError, message: /one of private, slave, shared, unbindable/ });
  t.throws(() => bind({ source: dir('x'), target: dir('y'), flags: MS.RDONLY }), { instanceOf: ValidationError, message: /bind.flags/ });
  t.is(readMountInfo().length, mounts);
});
