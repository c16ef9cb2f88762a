import test from 'ava';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs, findBusybox, isStaticElf } from '../src/index.ts';

const base = mkdtempSync(join(tmpdir(), 'nsk-rootfs-test-'));
test.after.always(() => rmSync(base, { recursive: true, force: true }));

test('the host has a static busybox (busybox-static), and a dynamic /bin/ls is not static', (t) => {
  const bb = findBusybox();
  t.truthy(bb);
  t.true(isStaticElf(bb!));
  t.false(isStaticElf('/bin/ls'));
});

test('a busybox rootfs has the binary, a link per applet, /etc/passwd and empty mount points', (t) => {
  const dir = busyboxRootfs(join(base, 'a'));
  t.true(isStaticElf(join(dir, 'bin/busybox')));
  t.is(readlinkSync(join(dir, 'bin/sh')), '/bin/busybox');
  t.true(lstatSync(join(dir, 'bin/ls')).isSymbolicLink());
  t.true(existsSync(join(dir, 'sbin/ip')) || lstatSync(join(dir, 'sbin/ifconfig')).isSymbolicLink());
  t.regex(readFileSync(join(dir, 'etc/passwd'), 'utf8'), /^root:x:0:0:/);
  for (const d of ['proc', 'dev', 'sys', 'tmp']) t.deepEqual(readdirSync(join(dir, d)), []);
  t.is(lstatSync(join(dir, 'tmp')).mode & 0o7777, 0o1777);
});

test('building twice reuses the first build and leaves no temporary directory', (t) => {
  const dir = busyboxRootfs(join(base, 'b'));
  const marker = lstatSync(join(dir, '.nsk-rootfs')).mtimeMs;
  busyboxRootfs(dir);
  t.is(lstatSync(join(dir, '.nsk-rootfs')).mtimeMs, marker);
  t.deepEqual(readdirSync(base).filter((n) => n.includes('.tmp-')), []);
});
