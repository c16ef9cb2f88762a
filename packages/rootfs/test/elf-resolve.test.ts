import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBusybox, formatLdd, ldd, readElf, readLdCache, readLdSoConf } from '../src/index.ts';
import { writeElf, type ElfSpec } from './elf-fixtures.ts';

const base = mkdtempSync(join(tmpdir(), 'nsk-ldd-test-'));
const fdsBefore = readdirSync('/proc/self/fd').length;

/** What glibc's ldd prints, without linux-vdso and load addresses; never with the caller's LD_LIBRARY_PATH. */
function realLdd(path: string): string {
  const r = spawnSync('ldd', [path], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
  return r.stdout.split('\n').filter((l) => l && !l.includes('linux-vdso.so')).map((l) => `${l.replace(/ \(0x[0-9a-f]+\)$/, '')}\n`).join('');
}

// The fixtures are made for this host's machine and loader, so ld.so itself
// can trace them: ldd is the referee for every case below.
const host = readElf('/bin/bash');
const I = host.interpreter!;
const machine = { class: host.class, endian: host.endian, machine: host.machine } as const;
const other: ElfSpec = host.class === 64 ? { class: 32, machine: 3 } : { class: 64, machine: 62 };
const dir = (...p: string[]) => {
  const d = join(base, ...p);
  mkdirSync(d, { recursive: true });
  return d;
};
const elf = (path: string, spec: ElfSpec) => writeElf(path, { ...machine, ...spec });

test('for the host’s programs and a library, the closure and its order are what ldd prints, interpreter included', (t) => {
  const libc = ldd('/bin/bash').objects.find((o) => o.name === 'libc.so.6')!.path!;
  for (const p of ['/bin/bash', '/bin/ls', '/bin/tar', '/bin/mount', '/usr/bin/find', '/bin/grep', '/usr/bin/perl', process.execPath, libc]) {
    const ours = ldd(p);
    t.is(formatLdd(ours), realLdd(p), p);
    t.deepEqual(ours.missing, [], p);
  }
  const bash = ldd('/bin/bash');
  t.is(bash.interpreter?.path, I);
  t.true(bash.objects.some((o) => o.via === 'interpreter' && o.path === I));
  t.true(bash.objects.some((o) => o.name === 'libc.so.6'));
});

test('a static program needs nothing (ldd: "not a dynamic executable")', (t) => {
  const r = ldd(findBusybox()!);
  t.true(r.elf.isStatic);
  t.deepEqual(r.objects, []);
  t.is(r.interpreter, null);
  const real = spawnSync('ldd', [findBusybox()!], { encoding: 'utf8' });
  t.regex(real.stdout + real.stderr, /not a dynamic executable/);
});

test('DT_RUNPATH with $ORIGIN serves the object’s own needs only: a library’s dependency is not searched there', (t) => {
  const root = dir('runpath');
  elf(join(dir('runpath', 'bin'), 'app'), { interpreter: I, needed: ['libone.so', 'libc.so.6'], runpath: '$ORIGIN/../lib' });
  elf(join(dir('runpath', 'lib'), 'libone.so'), { soname: 'libone.so', needed: ['libtwo.so', 'libc.so.6'] });
  elf(join(root, 'lib', 'libtwo.so'), { soname: 'libtwo.so' });
  const r = ldd(join(root, 'bin/app'));
  t.is(formatLdd(r), realLdd(join(root, 'bin/app')));
  t.like(r.objects.find((o) => o.name === 'libone.so'), { path: `${root}/bin/../lib/libone.so`, via: 'runpath' });
  t.deepEqual(r.missing.map((m) => [m.name, m.neededBy]), [['libtwo.so', `${root}/bin/../lib/libone.so`]]);
});

test('DT_RPATH is inherited: the program’s RPATH also finds its libraries’ dependencies', (t) => {
  const root = dir('rpath');
  elf(join(dir('rpath', 'bin'), 'app'), { interpreter: I, needed: ['libone.so'], rpath: '$ORIGIN/../lib' });
  elf(join(dir('rpath', 'lib'), 'libone.so'), { soname: 'libone.so', needed: ['libtwo.so', 'libc.so.6'] });
  elf(join(root, 'lib', 'libtwo.so'), { soname: 'libtwo.so' });
  const r = ldd(join(root, 'bin/app'));
  t.is(formatLdd(r), realLdd(join(root, 'bin/app')));
  t.like(r.objects.find((o) => o.name === 'libtwo.so'), { path: `${root}/bin/../lib/libtwo.so`, via: 'rpath' });
  t.deepEqual(r.missing, []);
});

test('DT_RPATH is ignored when DT_RUNPATH is present', (t) => {
  const root = dir('both');
  dir('both', 'empty');
  elf(join(dir('both', 'bin'), 'app'), { interpreter: I, needed: ['libthree.so', 'libc.so.6'], rpath: '$ORIGIN/../lib', runpath: '$ORIGIN/../empty' });
  elf(join(dir('both', 'lib'), 'libthree.so'), { soname: 'libthree.so' });
  const r = ldd(join(root, 'bin/app'));
  t.is(formatLdd(r), realLdd(join(root, 'bin/app')));
  t.deepEqual(r.missing.map((m) => m.name), ['libthree.so']);
});

test('a library of another class or machine is passed over, and the search goes on', (t) => {
  const root = dir('class');
  elf(join(dir('class', 'wrong'), 'libfour.so'), { ...other, soname: 'libfour.so' });
  elf(join(dir('class', 'right'), 'libfour.so'), { soname: 'libfour.so', needed: ['libc.so.6'] });
  elf(join(dir('class', 'bin'), 'app'), { interpreter: I, needed: ['libfour.so'], runpath: '$ORIGIN/../wrong:$ORIGIN/../right' });
  elf(join(root, 'bin', 'app-only-wrong'), { interpreter: I, needed: ['libfour.so', 'libc.so.6'], runpath: '$ORIGIN/../wrong' });
  const r = ldd(join(root, 'bin/app'));
  t.is(formatLdd(r), realLdd(join(root, 'bin/app')));
  const four = r.objects.find((o) => o.name === 'libfour.so')!;
  t.is(four.path, `${root}/bin/../right/libfour.so`);
  t.is(four.rejected[0]?.path, `${root}/bin/../wrong/libfour.so`);
  t.regex(four.rejected[0]!.why, new RegExp(`^ELF${other.class} LSB \\w+, not ELF${host.class} LSB ${host.arch}$`));
  const only = ldd(join(root, 'bin/app-only-wrong'));
  t.is(formatLdd(only), realLdd(join(root, 'bin/app-only-wrong')));
  t.deepEqual(only.missing.map((m) => m.name), ['libfour.so']);
});

test('$LIB, ${PLATFORM} and a DT_NEEDED with a slash expand as ld.so expands them', (t) => {
  const root = dir('tokens');
  const triplet = ldd('/bin/bash').objects.find((o) => o.name === 'libc.so.6')!.path!.split('/').at(-2)!;
  elf(join(dir('tokens', 'x', 'lib', triplet), 'libfive.so'), { soname: 'libfive.so' });
  elf(join(dir('tokens', host.arch), 'libsix.so'), { soname: 'libsix.so' });
  elf(join(dir('tokens', 'bin'), 'app'), { interpreter: I, needed: ['libfive.so', 'libsix.so', '$ORIGIN/../x/lib/' + triplet + '/libfive.so', 'libc.so.6'], runpath: `${root}/x/$LIB:${root}/\${PLATFORM}` });
  const r = ldd(join(root, 'bin/app'));
  t.is(formatLdd(r), realLdd(join(root, 'bin/app')));
  t.deepEqual(r.missing, []);
});

test('DF_1_NODEFLIB: neither ld.so.cache nor the system dirs are searched for that object', (t) => {
  const app = elf(join(dir('nodeflib'), 'app'), { interpreter: I, needed: ['libc.so.6'], flags1: 0x800 });
  const r = ldd(app);
  t.is(formatLdd(r), realLdd(app));
  t.deepEqual(r.missing.map((m) => m.name), ['libc.so.6']);
});

test('a missing library and a missing interpreter are reported, with who needed them', (t) => {
  const app = elf(join(dir('missing'), 'app'), { interpreter: I, needed: ['libnsk-nowhere.so.9', 'libc.so.6'] });
  const r = ldd(app);
  t.is(formatLdd(r), realLdd(app));
  t.regex(formatLdd(r), /\tlibnsk-nowhere\.so\.9 => not found\n/);
  t.like(r.missing[0], { name: 'libnsk-nowhere.so.9', path: null, via: null, neededBy: app });

  const noInterp = elf(join(dir('missing'), 'no-interp'), { interpreter: '/nonexistent/ld.so.1', needed: ['libc.so.6'] });
  const m = ldd(noInterp);
  t.like(m.interpreter, { name: '/nonexistent/ld.so.1', path: null });
  t.deepEqual(m.missing.map((o) => o.name), ['/nonexistent/ld.so.1']);
});

test('without ld.so.cache, the directories of ld.so.conf stand in for it; the system dirs come last', (t) => {
  const withCache = ldd('/bin/ls');
  const without = ldd('/bin/ls', { cache: null });
  t.deepEqual(without.objects.map((o) => o.path), withCache.objects.map((o) => o.path));
  t.true(without.objects.some((o) => o.via === 'ld.so.conf' || o.via === 'system'));
  t.false(without.objects.some((o) => o.via === 'ld.so.cache'));
  const none = ldd('/bin/ls', { cache: null, ldSoConf: join(base, 'no-such.conf') });
  t.true(none.objects.filter((o) => o.via !== 'interpreter').every((o) => o.via === 'system'));
});

test('ld.so.cache reads as `ldconfig -p` prints it; ld.so.conf includes are followed', (t) => {
  const entries = readLdCache()!;
  const printed = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(' => '))
    .map((l) => /^\s+(\S+) \(.*\) => (.*)$/.exec(l)!).map((m) => [m[1], m[2]]);
  t.deepEqual(entries.map((e) => [e.name, e.path]), printed);
  t.true(entries.length > 10);
  const dirs = readLdSoConf();
  t.true(dirs.some((d) => d.endsWith('-linux-gnu')), dirs.join(' '));
});

test.after.always('nothing is left behind: no fd open, the scratch dir removed', (t) => {
  t.is(readdirSync('/proc/self/fd').length, fdsBefore);
  rmSync(base, { recursive: true, force: true });
  t.false(existsSync(base));
});
