// The tar index behind `docker save` and OCI-layout tars: each member found
// by reading headers only (ustar, pax, GNU long names), its bytes streamed
// from its offset; names from a manifest may not leave the archive.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { openArchive } from '../src/image/archive.ts';
import { ImageFormatError } from '../src/index.ts';
import { indexTar } from '../src/image/tar-index.ts';
import { scratch } from './image-fixtures.ts';

const base = join(scratch(), 'tar-index');
const fdsBefore = readdirSync('/proc/self/fd');
test.after.always('nothing is left behind', (t) => {
  t.deepEqual(readdirSync('/proc/self/fd').filter((f) => !fdsBefore.includes(f)), []);
  rmSync(scratch(), { recursive: true, force: true });
  t.false(existsSync(scratch()));
});

const LONG = `${'d'.repeat(120)}/${'f'.repeat(150)}.json`;

function tree(): string {
  const src = join(base, 'src');
  if (existsSync(src)) return src;
  mkdirSync(join(src, LONG, '..'), { recursive: true });
  writeFileSync(join(src, LONG), '{"long":true}');
  writeFileSync(join(src, 'manifest.json'), '[]');
  writeFileSync(join(src, 'empty'), '');
  mkdirSync(join(src, 'a'));
  writeFileSync(join(src, 'a/layer.tar'), Buffer.alloc(1500, 7));
  mkdirSync(join(src, 'b'));
  symlinkSync('../a/layer.tar', join(src, 'b/layer.tar'));
  return src;
}

for (const format of ['gnu', 'posix', 'ustar'] as const) {
  test(`GNU tar --format=${format}: members found by name, read at their offsets, symlinks followed inside`, async (t) => {
    const src = tree();
    const out = join(base, `${format}.tar`);
    const members = format === 'ustar' ? ['./manifest.json', './empty', './a', './b'] : ['.'];
    execFileSync('tar', [`--format=${format}`, '-C', src, '-cf', out, ...members]);
    const a = openArchive(out)!;
    t.is(a.kind, 'tar');
    t.deepEqual(a.top().sort(), format === 'ustar' ? ['a', 'b', 'empty', 'manifest.json'] : ['a', 'b', 'd'.repeat(120), 'empty', 'manifest.json']);
    t.is(a.read('manifest.json').toString(), '[]');
    t.is(await text(a.open('./empty') as NodeJS.ReadableStream & AsyncIterable<Uint8Array>), '');
    if (format !== 'ustar') t.is(a.read(LONG).toString(), '{"long":true}', 'a 270-byte name (GNU ././@LongLink or pax path=)');
    t.deepEqual(a.read('b/layer.tar'), Buffer.alloc(1500, 7));
    t.is(a.size('b/layer.tar'), 1500);
    for (const bad of ['../etc/passwd', '/etc/passwd', 'a/../../x']) t.throws(() => a.read(bad), { instanceOf: ImageFormatError, message: /refusing member name/ });
    t.false(a.has('missing'));
  });
}

test('a compressed file is no tar to index; a truncated one is refused', (t) => {
  const src = tree();
  const gz = join(base, 'x.tar.gz');
  execFileSync('tar', ['-C', src, '-czf', gz, 'manifest.json']);
  t.is(indexTar(gz), null);
  const whole = join(base, 'whole.tar');
  execFileSync('tar', ['-C', src, '-cf', whole, 'a']);
  writeFileSync(join(base, 'cut.tar'), readFileSync(whole).subarray(0, 1024 + 512));
  t.throws(() => indexTar(join(base, 'cut.tar')), { instanceOf: ImageFormatError, message: /truncated/ });
});

test('a layout directory refuses names and links that leave it', (t) => {
  const dir = join(base, 'layout');
  mkdirSync(dir, { recursive: true });
  symlinkSync('/etc/passwd', join(dir, 'index.json'));
  const a = openArchive(dir)!;
  t.throws(() => a.read('index.json'), { instanceOf: ImageFormatError, message: /link out of the layout/ });
  t.throws(() => a.read('../x'), { instanceOf: ImageFormatError, message: /leaves the archive/ });
});
