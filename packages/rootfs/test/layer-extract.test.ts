// extractTar() against GNU tar: the same archive unpacked by both must give
// the same tree — types, modes (setuid/setgid/sticky), owners, mtimes to the
// nanosecond, contents, symlink targets, hard links sharing one inode,
// xattrs, device numbers.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createReadStream, lstatSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { ValidationError } from '@nsk/syscall';
import { decompress, extractTar } from '../src/index.ts';
import { buildTree, chunked, diffTrees, gnuCreate, gnuExtract, openFds, pack, snapshot, tempDir, writeTemp } from './layer-fixtures.ts';

const tmp = tempDir('extract');
test.after.always(() => tmp.done());

// One source tree, archived by GNU tar in both of its formats.
const src = join(tmp.dir, 'src');
mkdirSync(src);
buildTree(src);
const posixTar = join(tmp.dir, 'posix.tar');
const gnuTar = join(tmp.dir, 'gnu.tar');
gnuCreate(src, posixTar, 'posix');
gnuCreate(src, gnuTar, 'gnu');

let serial = 0;
function fresh(tag: string): string {
  const d = join(tmp.dir, `${tag}-${serial++}`);
  mkdirSync(d);
  return d;
}

function reference(archive: string): ReturnType<typeof snapshot> {
  const d = fresh('gnutar');
  gnuExtract(archive, d);
  return snapshot(d, { rootAttrs: true });
}

for (const [format, archive] of [['posix (PAX)', posixTar], ['gnu (long-name headers, base-256 ids)', gnuTar]] as const) {
  test(`a GNU tar ${format} archive unpacks exactly as GNU tar unpacks it`, async (t) => {
    const ours = fresh('ours');
    const r = await extractTar(createReadStream(archive), ours, { whiteouts: 'overlay' });
    const theirs = reference(archive);
    t.deepEqual(diffTrees(snapshot(ours, { rootAttrs: true }), theirs), []);
    // The tree really has what the comparison claims to cover.
    const tree = snapshot(ours);
    t.is(tree.get('bin/prog')!.mode, '4755');
    t.is(tree.get('bin/su1000')!.mode, '6750');
    t.is(tree.get('bin/su1000')!.uid, 1000);
    t.is(tree.get('tmp')!.mode, '1777');
    t.is(tree.get('etc/bigid')!.uid, 3000000);
    t.is(tree.get('usr/lib/libx-hard')!.inode, 'opt/a/b/third-link');
    t.is(tree.get('usr/lib/libx.so.1')!.inode, 'opt/a/b/third-link');
    t.is(tree.get('abs-link')!.target, '/etc/passwd');
    t.is(tree.get('abs-link')!.mtime, '981173106123456789');
    t.is(tree.get('etc/passwd')!.mtime, '-14182940000000000');
    t.is(tree.get('etc')!.mtime, '1286705410000000000');
    t.is(tree.get('dev/loop300')!.rdev, String((7 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12)));
    t.is(tree.get('dev/null')!.type, 'char');
    t.is(tree.get('run/fifo')!.type, 'fifo');
    t.deepEqual(tree.get('bin/ping')!.xattrs, { 'security.capability': '0000000200200000000000000000000000000000' });
    t.deepEqual(tree.get('etc')!.xattrs, { 'trusted.nsk': Buffer.from('dir-xattr').toString('hex') });
    t.true([...tree.keys()].some((k) => k.length > 300));
    t.true(tree.has('c\xe9.txt'));
    t.is(r.entries, [...tree.keys()].length + 1 /* "./" */);
    t.deepEqual(r.skipped, []);
  });
}

test('the bytes written are the regular files\' data, hard links counted once', async (t) => {
  const ours = fresh('bytes');
  const r = await extractTar(createReadStream(posixTar), ours, { whiteouts: 'apply' });
  const files = [...snapshot(ours).entries()].filter(([p, e]) => e.type === 'file' && e.inode === p);
  t.is(r.bytes, files.reduce((n, [, e]) => n + e.size!, 0));
});

test('an archive packed by tar-stream (ustar prefix, PAX names, PAX xattrs) unpacks as GNU tar unpacks it', async (t) => {
  const long = `usr/share/${'n'.repeat(90)}/${'m'.repeat(90)}/file.txt`;
  const buf = await pack([
    { name: './', type: 'directory', mode: 0o755, mtime: new Date(1_500_000_000_000) },
    { name: 'usr/', type: 'directory', mode: 0o755 },
    { name: 'usr/share/', type: 'directory', mode: 0o755 },
    { name: long, content: 'long name', mode: 0o640, uid: 7, gid: 8 },
    { name: 'usr/share/ünïcödé.txt', content: 'utf-8 name via PAX path' },
    { name: 'usr/bin/tool', content: 'x'.repeat(70_000), mode: 0o2711, gid: 44, pax: { 'SCHILY.xattr.user.origin': 'tar-stream', mtime: '1234567890.25' } },
    { name: 'usr/bin/link-to-tool', type: 'link', linkname: 'usr/bin/tool' },
    { name: 'usr/bin/sym', type: 'symlink', linkname: `../share/${'n'.repeat(90)}/${'m'.repeat(90)}/file.txt` },
    { name: 'dev/', type: 'directory', mode: 0o755 },
    { name: 'dev/tty', type: 'character-device', devmajor: 5, devminor: 0, mode: 0o666 },
    { name: 'run/pipe', type: 'fifo', mode: 0o600 },
    { name: 'var/empty/', type: 'directory', mode: 0o711, uid: 33, gid: 33 },
  ]);
  const archive = writeTemp(tmp.dir, 'ts.tar', buf);
  const ours = fresh('ts');
  await extractTar(chunked(buf, 1000), ours, { whiteouts: 'overlay' });
  // Parents the archive does not list are made "now", by both: their mtimes differ.
  const implicit = new Set(['run', 'usr/bin', 'var', long.split('/').slice(0, 3).join('/'), long.split('/').slice(0, 4).join('/')]);
  const noNow = (m: ReturnType<typeof snapshot>) => new Map([...m].map(([p, e]) => [p, implicit.has(p) ? { ...e, mtime: 'now' } : e]));
  t.deepEqual(diffTrees(noNow(snapshot(ours, { rootAttrs: true })), noNow(reference(archive))), []);
  const tree = snapshot(ours);
  t.is(tree.get('usr/bin/tool')!.mtime, '1234567890250000000');
  t.deepEqual(tree.get('usr/bin/tool')!.xattrs, { 'user.origin': Buffer.from('tar-stream').toString('hex') });
  t.is(tree.get('usr/bin/link-to-tool')!.inode, 'usr/bin/link-to-tool');
  t.is(tree.get('usr/bin/tool')!.inode, 'usr/bin/link-to-tool');
  t.true(tree.has(Buffer.from('usr/share/ünïcödé.txt').toString('latin1')));
});

test('chunk boundaries anywhere (inside headers, PAX records, data) give the same tree', async (t) => {
  const buf = readFileSync(posixTar);
  const small = await pack([
    { name: 'a/', type: 'directory' },
    { name: 'a/x', content: 'x'.repeat(1500), pax: { 'SCHILY.xattr.user.k': 'v' } },
    { name: `a/${'L'.repeat(150)}`, content: 'y' },
    { name: 'a/s', type: 'symlink', linkname: 'x' },
    { name: 'a/h', type: 'link', linkname: 'a/x' },
  ]);
  const want = fresh('chunks-ref');
  await extractTar(chunked(small, 1 << 20), want, { whiteouts: 'overlay' });
  const ref = snapshot(want);
  for (const size of [1, 7, 100, 511, 512, 513, 4095]) {
    const d = fresh(`chunks-${size}`);
    await extractTar(chunked(small, size), d, { whiteouts: 'overlay' });
    t.deepEqual(diffTrees(snapshot(d), ref), [], `chunks of ${size} bytes`);
  }
  const big = fresh('chunks-big');
  await extractTar(chunked(buf, 4093), big, { whiteouts: 'overlay' });
  t.deepEqual(diffTrees(snapshot(big, { rootAttrs: true }), reference(posixTar)), []);
});

test('idShift moves every owner by the shift, missing parents included', async (t) => {
  const shift = { uid: 100000, gid: 200000 };
  const ours = fresh('shift');
  await extractTar(createReadStream(posixTar), ours, { whiteouts: 'overlay', idShift: shift });
  const theirs = reference(posixTar);
  const mine = snapshot(ours, { rootAttrs: true });
  const moved = new Map([...theirs].map(([p, e]) => [p, { ...e, uid: e.uid + shift.uid, gid: e.gid + shift.gid }]));
  t.deepEqual(diffTrees(mine, moved), []);
  t.is(mine.get('bin/su1000')!.uid, 101000);
  t.is(mine.get('bin/su1000')!.mode, '6750', 'setuid/setgid survive the chown to the shifted owner');

  // A parent the archive never lists is made, owned by the shifted root.
  const buf = await pack([{ name: 'not/listed/file', content: 'f', uid: 5 }]);
  const d = fresh('shift-implicit');
  await extractTar(chunked(buf), d, { whiteouts: 'apply', idShift: shift });
  const st = lstatSync(join(d, 'not/listed'));
  t.is(st.uid, 100000);
  t.is(st.gid, 200000);
  t.is(st.mode & 0o7777, 0o755);
  t.is(lstatSync(join(d, 'not/listed/file')).uid, 100005);
});

test('gzip and zstd layers are sniffed and unpack to the same tree; plain tar passes through unchanged', async (t) => {
  const plain = readFileSync(posixTar);
  const ref = fresh('plain');
  await extractTar(decompress(createReadStream(posixTar)), ref, { whiteouts: 'overlay' });
  const want = snapshot(ref, { rootAttrs: true });
  for (const [kind, bytes] of [['gzip', gzipSync(plain)], ['zstd', zstdCompressSync(plain)]] as const) {
    const d = fresh(kind);
    await extractTar(decompress(Readable.from(chunked(bytes, 3))), d, { whiteouts: 'overlay' });
    t.deepEqual(diffTrees(snapshot(d, { rootAttrs: true }), want), [], kind);
  }
  const through: Buffer[] = [];
  for await (const c of decompress(Readable.from(chunked(plain, 5000)))) through.push(c as Buffer);
  t.true(Buffer.concat(through).equals(plain));
  const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]);
  await t.throwsAsync(extractTar(decompress(Readable.from([xz])), fresh('xz'), { whiteouts: 'overlay' }), { message: /xz-compressed layers are not supported/ });
});

test('directories get their mtime, mode and owner at the end, after their children are made', async (t) => {
  const buf = await pack([
    { name: 'ro/', type: 'directory', mode: 0o500, uid: 9, gid: 9, mtime: new Date(86_400_000) },
    { name: 'ro/inside', content: 'made after its read-only parent', mtime: new Date(172_800_000) },
    { name: 'ro/sub/', type: 'directory', mode: 0o2750, gid: 12, mtime: new Date(3_000_000) },
    { name: 'ro/sub/deeper', content: 'x' },
  ]);
  const d = fresh('dirs');
  await extractTar(chunked(buf), d, { whiteouts: 'overlay' });
  const ro = lstatSync(join(d, 'ro'));
  t.is(ro.mode & 0o7777, 0o500);
  t.is(ro.uid, 9);
  t.is(ro.mtimeMs, 86_400_000);
  const sub = lstatSync(join(d, 'ro/sub'));
  t.is(sub.mode & 0o7777, 0o2750);
  t.is(sub.mtimeMs, 3_000_000);
  t.is(lstatSync(join(d, 'ro/inside')).mtimeMs, 172_800_000);
});

test('an entry replaces what is in its way: a file over a directory tree, a directory over a file', async (t) => {
  const buf = await pack([
    { name: 'x/', type: 'directory' },
    { name: 'x/deep/file', content: 'old' },
    { name: 'x', content: 'now a file' },
    { name: 'y', content: 'a file first' },
    { name: 'y/', type: 'directory', mode: 0o750 },
    { name: 'y/child', content: 'c' },
    { name: 'z', content: 'first' },
    { name: 'z', content: 'second', mode: 0o600 },
  ]);
  const d = fresh('replace');
  await extractTar(chunked(buf), d, { whiteouts: 'apply' });
  t.is(readFileSync(join(d, 'x'), 'utf8'), 'now a file');
  t.true(statSync(join(d, 'y')).isDirectory());
  t.is(readFileSync(join(d, 'y/child'), 'utf8'), 'c');
  t.is(readFileSync(join(d, 'z'), 'utf8'), 'second');
  t.is(statSync(join(d, 'z')).mode & 0o777, 0o600);
});

test('without CAP_MKNOD, device nodes are skipped and reported; FIFOs and overlay whiteouts are still made', (t) => {
  const d = fresh('nomknod');
  const archive = join(tmp.dir, 'devs.tar');
  // setpriv(1) drops CAP_MKNOD from the bounding set: root without it.
  const r = spawnSync('setpriv', ['--bounding-set=-mknod', '--inh-caps=-mknod', process.execPath,
    '--conditions=nsk-source', '--no-warnings', join(import.meta.dirname, 'layer-child-extract.ts'), archive, d], { encoding: 'utf8', input: '' });
  t.is(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { skipped: { path: string; reason: string }[] };
  t.deepEqual(result.skipped.map((s) => s.path), ['dev/null', 'dev/sda']);
  t.regex(result.skipped[0]!.reason, /character device 1:3 not created: mknodat\(2\) needs CAP_MKNOD \(EPERM\)/);
  t.regex(result.skipped[1]!.reason, /block device 8:0/);
  t.true(lstatSync(join(d, 'dev/fifo')).isFIFO());
  // An overlayfs whiteout (char 0:0) needs no CAP_MKNOD (Linux ≥ 5.8).
  t.true(lstatSync(join(d, 'dev/gone')).isCharacterDevice());
  t.is(lstatSync(join(d, 'dev/gone')).rdev, 0);
  t.deepEqual(readdirSync(join(d, 'dev')).sort(), ['fifo', 'gone']);
});

test.before(async () => {
  writeTemp(tmp.dir, 'devs.tar', await pack([
    { name: 'dev/', type: 'directory' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 },
    { name: 'dev/fifo', type: 'fifo', mode: 0o644 },
    { name: 'dev/.wh.gone', content: '' },
  ]));
});

test('bad options are refused before anything is read or created', async (t) => {
  const d = fresh('opts');
  const never = (async function* () { throw new Error('read'); })();
  await t.throwsAsync(extractTar(never, d, { whiteouts: 'bogus' as 'apply' }), { instanceOf: ValidationError, message: /whiteouts/ });
  await t.throwsAsync(extractTar(never, d, { whiteouts: 'apply', idShift: { uid: -1, gid: 0 } }), { instanceOf: ValidationError, message: /idShift\.uid/ });
  await t.throwsAsync(extractTar(never, d, { whiteouts: 'apply', limits: { maxEntries: 0 } }), { instanceOf: ValidationError, message: /limits\.maxEntries/ });
  await t.throwsAsync(extractTar(never, join(d, 'missing'), { whiteouts: 'apply' }), { message: /open the extraction root: openat\(.*missing\): ENOENT/ });
  t.deepEqual(readdirSync(d), []);
});

test.serial('no fd is left open, after success or failure; onProgress counts the bytes read', async (t) => {
  const before = openFds();
  const seen: number[] = [];
  await extractTar(createReadStream(posixTar), fresh('fds'), { whiteouts: 'overlay', onProgress: (n) => seen.push(n) });
  t.is(seen.at(-1), statSync(posixTar).size);
  t.true(seen.every((n, i) => i === 0 || n > seen[i - 1]!));
  await t.throwsAsync(extractTar(chunked(await pack([{ name: 'a/b', content: 'x' }, { name: '../evil', content: 'x' }])), fresh('fds-fail'), { whiteouts: 'overlay' }));
  t.deepEqual(openFds(), before);
});
