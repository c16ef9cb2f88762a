// The tar format decoding on its own (no filesystem): numeric fields, PAX
// records, entry names — and binary PAX values surviving to the xattr.
import test from 'ava';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UnsafeArchiveError, extractTar } from '../src/index.ts';
import { entryPath } from '../src/layer/entry-path.ts';
import { parseNumber, parsePax, parsePaxTime } from '../src/layer/tar-header.ts';
import { TarReader, type TarEntry } from '../src/layer/tar-reader.ts';
import { chunked, pack, tempDir, xattrsOf } from './layer-fixtures.ts';

const tmp = tempDir('tar');
test.after.always(() => tmp.done());

test('numeric fields: octal with spaces or NULs, GNU base-256 both signs', (t) => {
  const field = (s: string | number[]) => (typeof s === 'string' ? Buffer.from(s, 'latin1') : Buffer.from(s));
  t.is(parseNumber(field('0000644\0'), 0, 8), 0o644);
  t.is(parseNumber(field('  755 \0\0'), 0, 8), 0o755);
  t.is(parseNumber(field('\0\0\0\0\0\0\0\0'), 0, 8), 0);
  t.true(Number.isNaN(parseNumber(field('0009\0'), 0, 5)));
  t.is(parseNumber(field([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0x2d, 0xc6, 0xc0]), 0, 12), 3000000);
  t.is(parseNumber(field([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]), 0, 12), -2);
  t.true(Number.isNaN(parseNumber(field([0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0, 12)));
});

test('PAX records: lengths count bytes, values stay bytes, malformed records are errors', (t) => {
  const rec = (k: string, v: Buffer) => {
    const body = Buffer.concat([Buffer.from(` ${k}=`), v, Buffer.from('\n')]);
    let n = body.length + 2;
    if (String(n).length + body.length !== n) n = body.length + String(n + 1).length;
    return Buffer.concat([Buffer.from(String(n)), body]);
  };
  const bin = Buffer.from([0, 1, 0x0a, 0xff, 0x3d]);
  const m = parsePax(Buffer.concat([rec('path', Buffer.from('ünï')), rec('SCHILY.xattr.user.b', bin)]));
  t.is(m.get('path')!.toString('utf8'), 'ünï');
  t.true(m.get('SCHILY.xattr.user.b')!.equals(bin));
  t.throws(() => parsePax(Buffer.from('99 path=x\n')), { message: /bad length/ });
  t.throws(() => parsePax(Buffer.from('x path=y\n')), { message: /length/ });
  t.throws(() => parsePax(Buffer.from('11 novalue\n')), { message: /key=value/ });
  t.deepEqual(parsePaxTime(Buffer.from('1700000000.123456789123')), { sec: 1700000000, nsec: 123456789 });
  t.deepEqual(parsePaxTime(Buffer.from('-1.25')), { sec: -2, nsec: 750000000 });
  t.is(parsePaxTime(Buffer.from('1e9')), null);
});

test('entry names: "./", "." and empty components fold away; "..", "/" and "" are refused', (t) => {
  t.is(entryPath('./usr/bin/'), 'usr/bin');
  t.is(entryPath('usr//lib/./x'), 'usr/lib/x');
  t.is(entryPath('./'), '');
  t.is(entryPath('.'), '');
  t.is(entryPath('..a/b..'), '..a/b..');
  t.is(entryPath('.wh...'), '.wh...');
  for (const bad of ['', '/etc/passwd', '..', 'a/..', 'a/../b', './../x', 'etc/passwd\0.txt']) {
    t.throws(() => entryPath(bad), { instanceOf: UnsafeArchiveError }, bad);
  }
});

test('the reader folds PAX and long names into the entry and hands data through in order', async (t) => {
  const long = `d/${'x'.repeat(300)}`;
  const buf = await pack([
    { name: long, content: 'abc', uid: 3, pax: { uid: '4000000', 'SCHILY.xattr.user.k': 'v', mtime: '5.5' } },
    { name: 'l', type: 'symlink', linkname: `t/${'y'.repeat(200)}` },
  ]);
  const seen: Array<Pick<TarEntry, 'name' | 'linkname' | 'uid' | 'size' | 'typeflag'> & { data: string; mtime: string; x: string }> = [];
  let data = '';
  const reader = new TarReader({
    entry: (e) => { seen.push({ name: e.name, linkname: e.linkname, uid: e.uid, size: e.size, typeflag: e.typeflag, data: '', mtime: `${e.mtime.sec}.${e.mtime.nsec}`, x: e.xattrs.map(([k, v]) => `${k}=${v}`).join() }); data = ''; },
    data: (c) => { data += c.toString(); },
    end: () => { seen.at(-1)!.data = data; },
  }, { maxMeta: 1 << 20 });
  for await (const c of chunked(buf, 3)) reader.push(Buffer.from(c));
  reader.finish();
  t.true(reader.ended);
  t.deepEqual(seen, [
    { name: long, linkname: '', uid: 4000000, size: 3, typeflag: '0', data: 'abc', mtime: '5.500000000', x: 'user.k=v' },
    { name: 'l', linkname: `t/${'y'.repeat(200)}`, uid: 0, size: 0, typeflag: '2', data: '', mtime: '1600000000.0', x: '' },
  ]);
});

test('a binary xattr value (NUL, newline, 0xff) reaches the file byte for byte', async (t) => {
  // tar-stream writes PAX values as text; patch in bytes of the same length.
  const placeholder = 'PLACEHOLDER';
  const value = Buffer.from([0x00, 0x0a, 0xff, 0x3d, 0x20, 0x01, 0x80, 0x7f, 0x00, 0xfe, 0x0a]);
  const buf = await pack([{ name: 'f', content: 'x', pax: { 'SCHILY.xattr.user.bin': placeholder } }]);
  const at = buf.indexOf(placeholder);
  value.copy(buf, at);
  const root = join(tmp.dir, 'bin');
  mkdirSync(root);
  await extractTar(chunked(buf), root, { whiteouts: 'overlay' });
  t.deepEqual(xattrsOf(join(root, 'f')), { 'user.bin': value.toString('hex') });
});

test('xattrs in the overlayfs namespace are never taken from an archive', async (t) => {
  const root = join(tmp.dir, 'ovl-xattr');
  mkdirSync(root);
  const r = await extractTar(chunked(await pack([
    { name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } },
    { name: 'f', content: 'x', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y', 'SCHILY.xattr.user.ok': '1' } },
  ])), root, { whiteouts: 'overlay' });
  t.deepEqual(xattrsOf(join(root, 'd')), {});
  t.deepEqual(xattrsOf(join(root, 'f')), { 'user.ok': '31' });
  t.deepEqual(r.skipped.map((s) => `${s.path}: ${s.reason}`), [
    'f: xattr trusted.overlay.opaque not set: overlayfs metadata is never taken from an archive',
    'd: xattr trusted.overlay.redirect not set: overlayfs metadata is never taken from an archive',
  ]);
});
