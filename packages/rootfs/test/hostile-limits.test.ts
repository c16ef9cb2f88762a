// Tar bombs and malformed archives: a huge sparse file, a size past the
// limit, too many entries, an oversized extended header, a truncated or
// still-compressed stream. Each is refused before the damage, naming the
// entry and the limit, and leaves everything outside the root as it was.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES } from '../src/layer/index.ts';
import { pack, tempDir } from './layer-fixtures.ts';
import { refused } from './layer-hostile.ts';

const TIB = 2 ** 40;

test('the default limits are 64 GiB and one million entries', (t) => {
  t.is(DEFAULT_MAX_BYTES, 64 * 2 ** 30);
  t.is(DEFAULT_MAX_ENTRIES, 1_000_000);
});

test.serial('a PAX (GNU 1.0) sparse file of 1 TiB is refused before any data', async (t) => {
  await refused(t, 'pax-sparse', () => [
    {
      name: 'GNUSparseFile.0/huge.img', content: '1\n0\n1\n',
      pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'huge.img', 'GNU.sparse.realsize': String(TIB) },
    },
  ], { entry: 'huge.img', reason: new RegExp(`a sparse file \\(real size ${TIB} bytes\\); sparse entries are not extracted`) });
});

for (const format of ['gnu', 'posix'] as const) {
  test.serial(`a 1 TiB sparse file archived by GNU tar --sparse --format=${format} is refused`, async (t) => {
    const src = tempDir('sparse-src');
    try {
      // A 1 TiB file with one byte of data at its end: a few KiB of archive.
      const img = join(src.dir, 'disk.img');
      const r = spawnSync('sh', ['-ec', 'truncate -s 1T "$1" && printf x | dd of="$1" bs=1 seek=$((1024*1024*1024*1024-1)) conv=notrunc status=none', 'sh', img]);
      t.is(r.status, 0, String(r.stderr));
      const archive = join(src.dir, 'sparse.tar');
      const c = spawnSync('tar', ['-cf', archive, `--format=${format}`, '--sparse', '-C', src.dir, 'disk.img'], { encoding: 'utf8' });
      t.is(c.status, 0, c.stderr);
      const bytes = readFileSync(archive);
      t.true(bytes.length < 64 * 1024);
      await refused(t, `gnu-sparse-${format}`, () => bytes, { entry: 'disk.img', reason: new RegExp(`a sparse file \\(real size ${TIB} bytes\\)`) });
    } finally {
      src.done();
    }
  });
}

test.serial('a file larger than limits.maxBytes is refused from its header', async (t) => {
  await refused(t, 'too-big', () => [
    { name: 'small', content: 'x'.repeat(1000) },
    { name: 'bomb.bin', content: Buffer.alloc(2 << 20, 1) },
  ], { entry: 'bomb.bin', reason: /its 2097152 bytes would take the archive past 1048576 bytes \(limits\.maxBytes\)/ }, { limits: { maxBytes: 1 << 20 } });
});

test.serial('the total is bounded too: many files adding up past limits.maxBytes', async (t) => {
  await refused(t, 'total', () => Array.from({ length: 10 }, (_, i) => ({ name: `part${i}`, content: Buffer.alloc(300_000) })),
    { entry: 'part3', reason: /past 1000000 bytes \(limits\.maxBytes\)/ }, { limits: { maxBytes: 1_000_000 } });
});

test.serial('a PAX size of 1 TiB is refused with the default limits (64 GiB)', async (t) => {
  await refused(t, 'pax-size', () => [
    { name: 'claims-a-tebibyte', content: 'tiny', pax: { size: String(TIB) } },
  ], { entry: 'claims-a-tebibyte', reason: new RegExp(`its ${TIB} bytes would take the archive past ${64 * 2 ** 30} bytes`) });
});

test.serial('more entries than limits.maxEntries are refused at the first one too many', async (t) => {
  await refused(t, 'entries', () => Array.from({ length: 101 }, (_, i) => ({ name: `f${i}`, content: '' })),
    { entry: 'f100', reason: /the archive has more than 100 entries \(limits\.maxEntries\)/ }, { limits: { maxEntries: 100 } });
});

test.serial('an extended (PAX) header over 1 MiB is refused before it is buffered', async (t) => {
  await refused(t, 'pax-huge', () => [
    { name: 'x', content: 'x', pax: { comment: 'c'.repeat(2 << 20) } },
  ], { entry: '(header at byte 0)', reason: /an extended header of \d+ bytes \(more than 1048576\)/ });
});

test.serial('a truncated archive is refused, naming the entry it ends in', async (t) => {
  await refused(t, 'truncated', async () => {
    const whole = await pack([{ name: 'first', content: 'ok' }, { name: 'cut-short', content: Buffer.alloc(10_000, 7) }]);
    return whole.subarray(0, 1024 + 512 + 4096);
  }, { entry: 'cut-short', reason: /the archive ends in the middle of this entry \(truncated\)/ });
});

test.serial('a compressed stream given as a plain tar is refused at its first header', async (t) => {
  await refused(t, 'gzip-as-tar', async () => gzipSync(await pack([{ name: 'a', content: randomBytes(4096) }])),
    { entry: '(header at byte 0)', reason: /not a tar header \(checksum mismatch\).*still compressed/ });
});
