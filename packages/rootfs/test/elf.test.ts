import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyscallError } from '@nsk/syscall';
import { ElfError, findBusybox, ldd, parseElf, readElf, type Elf } from '../src/index.ts';
import { makeElf, writeElf, type ElfSpec } from './elf-fixtures.ts';

const base = mkdtempSync(join(tmpdir(), 'nsk-elf-test-'));
const fdsBefore = readdirSync('/proc/self/fd').length;

/** What binutils' readelf says about a file: the independent witness. */
function readelf(path: string): Partial<Elf> & { machineName: string } {
  const out = execFileSync('readelf', ['-hldW', path], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } });
  const field = (name: string) => new RegExp(`^\\s*${name}:\\s*(.*)$`, 'm').exec(out)?.[1]?.trim() ?? '';
  const all = (re: RegExp) => [...out.matchAll(re)].map((m) => m[1]!);
  const one = (re: RegExp) => re.exec(out)?.[1] ?? null;
  const list = (re: RegExp) => (one(re) === null ? null : one(re)!.split(':'));
  return {
    class: field('Class') === 'ELF64' ? 64 : 32,
    endian: field('Data').includes('little') ? 'little' : 'big',
    type: field('Type').split(' ')[0]!.toLowerCase() as Elf['type'],
    machineName: field('Machine'),
    interpreter: one(/\[Requesting program interpreter: (.*)\]/),
    needed: all(/\(NEEDED\)\s+Shared library: \[(.*)\]/g),
    soname: one(/\(SONAME\)\s+Library soname: \[(.*)\]/),
    rpath: list(/\(RPATH\)\s+Library rpath: \[(.*)\]/),
    runpath: list(/\(RUNPATH\)\s+Library runpath: \[(.*)\]/),
    nodeflib: /\(FLAGS_1\)\s+Flags:.*NODEFLIB/.test(out),
  };
}

const pick = (e: Elf) => ({
  class: e.class, endian: e.endian, type: e.type, interpreter: e.interpreter,
  needed: e.needed, soname: e.soname, rpath: e.rpath, runpath: e.runpath, nodeflib: e.nodeflib,
});

test('the host’s programs and libraries read as readelf reads them: class, byte order, type, interpreter, DT_NEEDED, DT_SONAME', (t) => {
  const libc = ldd('/bin/bash').objects.find((o) => o.name === 'libc.so.6')!.path!;
  const files = ['/bin/bash', '/bin/ls', '/bin/tar', process.execPath, libc, findBusybox()!];
  for (const f of files) {
    const ours = readElf(f);
    const { machineName, ...theirs } = readelf(f);
    t.deepEqual(pick(ours), theirs, f);
    t.truthy(machineName, f);
  }
  t.is(readElf(libc).soname, 'libc.so.6');
  t.deepEqual(readElf('/bin/bash').needed.includes('libc.so.6'), true);
});

test('a static busybox has no interpreter and no DT_NEEDED; a dynamic bash has both', (t) => {
  const bb = readElf(findBusybox()!);
  t.true(bb.isStatic);
  t.is(bb.interpreter, null);
  t.deepEqual(bb.needed, []);
  const bash = readElf('/bin/bash');
  t.false(bash.isStatic);
  t.true(bash.dynamic);
  t.regex(bash.interpreter!, /^\/lib.*\/ld-linux/);
});

// Hand-written files for machines this host does not run, in every class
// and byte order; readelf checks both the fixture and the parser.
const FOREIGN: Array<ElfSpec & { arch: string; readelfMachine: string }> = [
  { class: 32, endian: 'little', machine: 3, arch: 'i386', readelfMachine: 'Intel 80386' },
  { class: 32, endian: 'big', machine: 20, arch: 'powerpc', readelfMachine: 'PowerPC' },
  { class: 32, endian: 'little', machine: 40, arch: 'arm', readelfMachine: 'ARM' },
  { class: 64, endian: 'big', machine: 22, arch: 's390x', readelfMachine: 'IBM S/390' },
  { class: 64, endian: 'little', machine: 183, arch: 'aarch64', readelfMachine: 'AArch64' },
  { class: 64, endian: 'little', machine: 243, arch: 'riscv64', readelfMachine: 'RISC-V' },
  { class: 64, endian: 'little', machine: 21, arch: 'powerpc64le', readelfMachine: 'PowerPC64' },
];

test('hand-made ELF32 and ELF64, little- and big-endian, for foreign machines: the header, PT_INTERP and the dynamic section', (t) => {
  for (const f of FOREIGN) {
    const spec: ElfSpec = {
      ...f,
      interpreter: `/lib/ld-${f.arch}.so.1`,
      needed: ['libc.so.6', `libfoo-${f.arch}.so.2`],
      soname: `libme-${f.arch}.so`,
      runpath: '$ORIGIN/../lib:/opt/x',
      flags1: 0x800,
    };
    const path = writeElf(join(base, `foreign-${f.arch}`), spec);
    const e = readElf(path);
    t.like(e, { class: f.class, endian: f.endian, machine: f.machine, arch: f.arch, type: 'dyn', isStatic: false, dynamic: true }, f.arch);
    t.deepEqual(e.runpath, ['$ORIGIN/../lib', '/opt/x']);
    t.true(e.nodeflib);
    const { machineName, ...theirs } = readelf(path);
    t.deepEqual(pick(e), theirs, f.arch);
    t.is(machineName, f.readelfMachine, f.arch);
    // The same bytes parse the same from memory.
    t.deepEqual(parseElf(readFileSync(path), path), e);
  }
});

test('an object assembled for aarch64 (binutils-aarch64-linux-gnu) and one for i386 are recognized', (t) => {
  const src = join(base, 'empty.s');
  writeFileSync(src, '\t.text\n\tnop\n');
  const a64 = join(base, 'a64.o');
  const i386 = join(base, 'i386.o');
  execFileSync('aarch64-linux-gnu-as', ['-o', a64, src]);
  execFileSync('as', ['--32', '-o', i386, src]);
  t.like(readElf(a64), { class: 64, endian: 'little', machine: 183, arch: 'aarch64', type: 'rel', interpreter: null, dynamic: false, isStatic: true });
  t.like(readElf(i386), { class: 32, endian: 'little', machine: 3, arch: 'i386', type: 'rel', dynamic: false });
});

test('a file that is not ELF is an ElfError naming the file', (t) => {
  const e = t.throws(() => readElf('/etc/passwd'), { instanceOf: ElfError });
  t.is(e.reason, 'not-elf');
  t.is(e.path, '/etc/passwd');
  t.is(e.code, 'ERR_NSK_ELF_NOT_ELF');
  t.regex(e.message, /^\/etc\/passwd: not an ELF file \(starts with "root"/);

  const empty = join(base, 'empty');
  writeFileSync(empty, '');
  t.regex(t.throws(() => readElf(empty), { instanceOf: ElfError }).message, new RegExp(`^${empty}: not an ELF file \\(empty\\)`));
  t.is(t.throws(() => readElf(base), { instanceOf: ElfError }).reason, 'not-elf');
});

test('a truncated ELF file is an ElfError saying where it ends', (t) => {
  const bash = readFileSync('/bin/bash');
  for (const [len, what] of [[10, 'identification'], [40, 'ELF header'], [100, 'program headers']] as const) {
    const p = join(base, `truncated-${len}`);
    writeFileSync(p, bash.subarray(0, len));
    const e = t.throws(() => readElf(p), { instanceOf: ElfError });
    t.is(e.reason, 'truncated', p);
    t.true(e.message.startsWith(`${p}: truncated`), e.message);
    t.true(e.message.includes(what), e.message);
  }
  // The dynamic section itself cut off.
  const whole = makeElf({ interpreter: '/lib/ld.so', needed: ['libc.so.6'] });
  t.is(t.throws(() => parseElf(whole.subarray(0, whole.length - 4), 'cut'), { instanceOf: ElfError }).reason, 'truncated');
});

test('a malformed or unknown ELF is an ElfError: DT_STRTAB outside every PT_LOAD, an unknown class', (t) => {
  const bad = makeElf({ needed: ['libc.so.6'], strtabAddr: 0x100000 });
  const e = t.throws(() => parseElf(bad, 'bad-strtab'), { instanceOf: ElfError });
  t.is(e.reason, 'malformed');
  t.regex(e.message, /^bad-strtab: DT_STRTAB 0x100000 lies in no PT_LOAD segment/);
  const klass3 = makeElf({});
  klass3[4] = 3;
  t.is(t.throws(() => parseElf(klass3, 'class3'), { instanceOf: ElfError }).reason, 'unsupported');
});

test('a missing file is a SyscallError naming open, the path and ENOENT', (t) => {
  const e = t.throws(() => readElf(join(base, 'nope')), { instanceOf: SyscallError });
  t.is(e.errno, 'ENOENT');
  t.is(e.syscall, 'open');
  t.is(e.path, join(base, 'nope'));
});

// Serial tests run before the others in ava: this check runs after them all.
test.after.always('nothing is left behind: every file opened was closed, errors included; the scratch dir goes', (t) => {
  for (let i = 0; i < 20; i++) {
    readElf('/bin/bash');
    t.throws(() => readElf('/etc/passwd'));
  }
  t.is(readdirSync('/proc/self/fd').length, fdsBefore);
  rmSync(base, { recursive: true, force: true });
  t.false(existsSync(base));
});
