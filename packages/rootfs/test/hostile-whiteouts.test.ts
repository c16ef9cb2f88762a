// Whiteouts aimed outside the root: at "..", at "../x", through a symlink.
// Refused in both modes ('apply' would delete, 'overlay' would mknod), and
// nothing outside the root — the sentinel's canary above all — is touched.
import test from 'ava';
import { symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { refused } from './layer-hostile.ts';

for (const whiteouts of ['apply', 'overlay'] as const) {
  test.serial(`${whiteouts}: a whiteout that targets ".." is refused`, async (t) => {
    await refused(t, `wh-dotdot-${whiteouts}`, () => [
      { name: 'a/', type: 'directory' },
      { name: 'a/.wh...', content: '' },
    ], { entry: 'a/.wh...', reason: /a whiteout that targets "\.\." \(outside its own directory\)/ }, { whiteouts });
  });

  test.serial(`${whiteouts}: a whiteout at the top that targets ".." (the root's parent) is refused`, async (t) => {
    await refused(t, `wh-top-dotdot-${whiteouts}`, () => [
      { name: '.wh...', content: '' },
    ], { entry: '.wh...', reason: /targets "\.\."/ }, { whiteouts });
  });

  test.serial(`${whiteouts}: a whiteout of "../sentinel" is refused`, async (t) => {
    await refused(t, `wh-up-${whiteouts}`, () => [
      { name: '../.wh.sentinel', content: '' },
    ], { entry: '../.wh.sentinel', reason: /has a "\.\." component/ }, { whiteouts });
  });

  test.serial(`${whiteouts}: a whiteout of "." (its own directory) is refused`, async (t) => {
    await refused(t, `wh-dot-${whiteouts}`, () => [
      { name: 'a/.wh..', content: '' },
    ], { entry: 'a/.wh..', reason: /targets "\."/ }, { whiteouts });
  });

  test.serial(`${whiteouts}: a whiteout through a symlink to the sentinel is refused`, async (t) => {
    await refused(t, `wh-symlink-${whiteouts}`, (a) => [
      { name: 'link', type: 'symlink', linkname: a.sentinel },
      { name: 'link/.wh.canary', content: '' },
    ], { entry: 'link/.wh.canary', reason: /"link" is a symbolic link/ }, { whiteouts });
  });

  test.serial(`${whiteouts}: an opaque marker through a symlink planted by a lower layer is refused`, async (t) => {
    await refused(t, `wh-opq-planted-${whiteouts}`, () => [
      { name: 'lower/.wh..wh..opq', content: '' },
    ], { entry: 'lower/.wh..wh..opq', reason: /"lower" is a symbolic link/ }, { whiteouts }, (a) => {
      symlinkSync(relative(a.root, a.sentinel), join(a.root, 'lower'));
    });
  });

  test.serial(`${whiteouts}: a whiteout name used as a directory is refused`, async (t) => {
    await refused(t, `wh-as-dir-${whiteouts}`, () => [
      { name: 'a/.wh.b/c', content: '' },
    ], { entry: 'a/.wh.b/c', reason: /a whiteout name \("\.wh\.b"\) is used as a directory/ }, { whiteouts });
  });
}
