// Hostile archives that try to reach outside the root by name, through a
// symlink, or with a hard link. Each is refused, naming the entry and the
// reason, and leaves everything outside the root as it was.
import test from 'ava';
import { existsSync, lstatSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { extractTar } from '../src/index.ts';
import { chunked, pack } from './layer-fixtures.ts';
import { PWNED, arena, refused } from './layer-hostile.ts';

test.serial('path traversal: "../x" is refused', async (t) => {
  await refused(t, 'dotdot', () => [
    { name: 'ok', content: 'fine' },
    { name: `../sentinel/${PWNED}`, content: 'escaped' },
  ], { entry: `../sentinel/${PWNED}`, reason: /has a "\.\." component/ });
});

test.serial('path traversal hidden in the middle: "a/../../x" is refused', async (t) => {
  await refused(t, 'dotdot-mid', () => [
    { name: 'a/', type: 'directory' },
    { name: `a/../../sentinel/${PWNED}`, content: 'escaped' },
  ], { entry: `a/../../sentinel/${PWNED}`, reason: /has a "\.\." component/ });
});

test.serial('a PAX path record naming "../x" (the ustar name looks harmless) is refused', async (t) => {
  await refused(t, 'pax-path', () => [
    { name: 'harmless', content: 'escaped', pax: { path: `../sentinel/${PWNED}` } },
  ], { entry: `../sentinel/${PWNED}`, reason: /has a "\.\." component/ });
});

test.serial('a PAX path with a NUL byte (which the kernel would cut short) is refused', async (t) => {
  await refused(t, 'pax-nul', () => [
    { name: 'harmless', content: 'x', pax: { path: `${PWNED}\0/../../sentinel/canary` } },
  ], { entry: `${PWNED}\0/../../sentinel/canary`, reason: /has a NUL byte/ });
});

test.serial('an absolute path is refused (not stripped)', async (t) => {
  await refused(t, 'absolute', () => [
    { name: `/tmp/${PWNED}`, content: 'escaped' },
  ], { entry: `/tmp/${PWNED}`, reason: /is an absolute path/ });
});

test.serial('an absolute symlink, then a file written through it, is refused', async (t) => {
  await refused(t, 'abs-symlink', (a) => [
    { name: 'escape', type: 'symlink', linkname: a.sentinel },
    { name: `escape/${PWNED}`, content: 'escaped' },
  ], { entry: `escape/${PWNED}`, reason: /"escape" is a symbolic link; nothing is extracted through a symlink/ });
});

test.serial('a relative symlink that climbs out, then a file written through it, is refused', async (t) => {
  await refused(t, 'rel-symlink', () => [
    { name: 'd/', type: 'directory' },
    { name: 'd/up', type: 'symlink', linkname: '../../sentinel' },
    { name: `d/up/sub/${PWNED}`, content: 'escaped' },
  ], { entry: `d/up/sub/${PWNED}`, reason: /"d\/up" is a symbolic link/ });
});

test.serial('a symlink inside the root (to /etc), then a file through it, is refused too', async (t) => {
  await refused(t, 'symlink-etc', () => [
    { name: 'etc', type: 'symlink', linkname: '/etc' },
    { name: `etc/${PWNED}`, content: 'escaped' },
  ], { entry: `etc/${PWNED}`, reason: /is a symbolic link/ });
});

test.serial('a symlink replacing a parent directory mid-archive is not followed by later entries', async (t) => {
  await refused(t, 'swap-parent', (a) => [
    { name: 'dir/', type: 'directory' },
    { name: 'dir/first', content: 'written while dir was a directory' },
    { name: 'dir', type: 'symlink', linkname: a.sentinel },
    { name: `dir/${PWNED}`, content: 'escaped' },
  ], { entry: `dir/${PWNED}`, reason: /"dir" is a symbolic link/ });
});

test.serial('a symlink planted before extraction (a lower layer) is not followed either', async (t) => {
  await refused(t, 'planted', () => [
    { name: `usr/lib/${PWNED}`, content: 'escaped' },
  ], { entry: `usr/lib/${PWNED}`, reason: /"usr" is a symbolic link/ }, {}, (a) => {
    symlinkSync(relative(a.root, a.sentinel), join(a.root, 'usr'));
  });
});

test.serial('a hard link to /etc/passwd (absolute) is refused', async (t) => {
  await refused(t, 'hard-abs', () => [
    { name: 'passwd', type: 'link', linkname: '/etc/passwd' },
  ], { entry: 'passwd', reason: /its hard link target \("\/etc\/passwd"\) is an absolute path/ });
});

test.serial('a hard link to ../../../../etc/passwd is refused', async (t) => {
  await refused(t, 'hard-dotdot', () => [
    { name: 'passwd', type: 'link', linkname: '../../../../../../../../etc/passwd' },
  ], { entry: 'passwd', reason: /its hard link target \("[.\/]+etc\/passwd"\) has a "\.\." component/ });
});

test.serial('a hard link through a symlink to /etc is refused', async (t) => {
  await refused(t, 'hard-via-symlink', () => [
    { name: 'hostetc', type: 'symlink', linkname: '/etc' },
    { name: 'passwd', type: 'link', linkname: 'hostetc/passwd' },
  ], { entry: 'passwd', reason: /"hostetc" is a symbolic link/ });
});

test.serial('a hard link to something not (yet) extracted is refused', async (t) => {
  await refused(t, 'hard-missing', () => [
    { name: 'early', type: 'link', linkname: 'later' },
    { name: 'later', content: 'x' },
  ], { entry: 'early', reason: /its hard link target "later" does not exist in the root/ });
});

test.serial('a file over an existing symlink to outside replaces the symlink, never writes through it', async (t) => {
  const a = arena('over-symlink');
  try {
    const buf = await pack([
      { name: 'canary', type: 'symlink', linkname: join(a.sentinel, 'canary') },
      { name: 'canary', content: 'pwned', mode: 0o600 },
      { name: 'dirlink', type: 'symlink', linkname: join(a.sentinel, 'sub') },
      { name: 'dirlink/', type: 'directory' },
      { name: 'dirlink/inside', content: 'in a real directory now' },
    ]);
    await extractTar(chunked(buf), a.root, { whiteouts: 'overlay' });
    t.is(readFileSync(join(a.sentinel, 'canary'), 'utf8'), 'the canary');
    t.true(lstatSync(join(a.root, 'canary')).isFile());
    t.is(readFileSync(join(a.root, 'canary'), 'utf8'), 'pwned');
    t.true(lstatSync(join(a.root, 'dirlink')).isDirectory());
    t.false(existsSync(join(a.sentinel, 'sub/inside')));
  } finally {
    a.done();
  }
});

test.serial('a file over a hard link replaces the link, never writes into the shared inode', async (t) => {
  const a = arena('over-hardlink');
  try {
    const buf = await pack([
      { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
      { name: 'alias', type: 'link', linkname: 'etc/passwd' },
      { name: 'alias', content: 'evil::0:0::/:/bin/sh\n' },
    ]);
    await extractTar(chunked(buf), a.root, { whiteouts: 'overlay' });
    t.is(readFileSync(join(a.root, 'etc/passwd'), 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
    t.is(lstatSync(join(a.root, 'etc/passwd')).nlink, 1);
    t.is(readFileSync(join(a.root, 'alias'), 'utf8'), 'evil::0:0::/:/bin/sh\n');
  } finally {
    a.done();
  }
});

test.serial('symlink targets are stored as they are (data, never resolved)', async (t) => {
  const a = arena('targets');
  try {
    await extractTar(chunked(await pack([
      { name: 'up', type: 'symlink', linkname: '../../../../etc/shadow' },
      { name: 'abs', type: 'symlink', linkname: '/etc/shadow' },
    ])), a.root, { whiteouts: 'overlay' });
    t.is(readlinkSync(join(a.root, 'up')), '../../../../etc/shadow');
    t.is(readlinkSync(join(a.root, 'abs')), '/etc/shadow');
  } finally {
    a.done();
  }
});
