// Whiteouts, both ways. 'overlay': the layer directory stores overlayfs
// whiteouts (char 0:0, trusted.overlay.opaque=y), and an overlay mount of
// two layers really hides what they say. 'apply': the whiteouts delete in
// place, and flattening the two layers gives what the overlay shows.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { extractTar, type ExtractResult } from '../src/index.ts';
import { chunked, pack, snapshot, tempDir, xattrsOf, type Spec } from './layer-fixtures.ts';

const tmp = tempDir('whiteout');
test.after.always(() => tmp.done());
const mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8');

const lower: Spec[] = [
  { name: 'a/', type: 'directory' },
  { name: 'a/keep', content: 'kept' },
  { name: 'a/gone', content: 'deleted by layer 2' },
  { name: 'a/gonedir/', type: 'directory' },
  { name: 'a/gonedir/x', content: 'x' },
  { name: 'd/', type: 'directory' },
  { name: 'd/old1', content: 'hidden by the opaque dir' },
  { name: 'd/sub/', type: 'directory' },
  { name: 'd/sub/old2', content: 'hidden too' },
  { name: 's/', type: 'directory' },
  { name: 's/lower1', content: 'hidden by the opaque marker after the children' },
  { name: 's/keepdir/', type: 'directory' },
  { name: 's/keepdir/lowerchild', content: 'hidden: s is opaque' },
];
const upper: Spec[] = [
  { name: 'a/', type: 'directory' },
  { name: 'a/.wh.gone', content: '' },
  { name: 'a/.wh.gonedir', content: '' },
  { name: 'a/new', content: 'added' },
  { name: 'd/', type: 'directory' },
  { name: 'd/.wh..wh..opq', content: '' },
  { name: 'd/fresh', content: 'only this' },
  // OCI: a whiteout only hides the layers below; this layer's own files stay,
  // even when the marker comes after them.
  { name: 's/', type: 'directory' },
  { name: 's/mine', content: 'same layer as the whiteout' },
  { name: 's/keepdir/', type: 'directory' },
  { name: 's/keepdir/minechild', content: 'same layer' },
  { name: 's/.wh..wh..opq', content: '' },
  { name: 's/.wh.mine', content: '' },
  // A whiteout of something no layer has: nothing to hide.
  { name: 'nothere/.wh.ghost', content: '' },
  // AUFS bookkeeping: meaningless here.
  { name: '.wh..wh.plnk/', type: 'directory' },
  { name: '.wh..wh.plnk/123.456', content: 'aufs hard-link stash' },
];

async function layer(specs: Spec[], root: string, mode: 'overlay' | 'apply'): Promise<ExtractResult> {
  return extractTar(chunked(await pack(specs), 333), root, { whiteouts: mode });
}

/** What the merged tree shows: every path and, for files, the contents. */
function view(root: string): string[] {
  return [...snapshot(root)].map(([p, e]) => (e.type === 'file' ? `${p}=${readFileSync(join(root, p), 'utf8')}` : `${p}/`)).sort();
}

const expected = [
  'a/', 'a/keep=kept', 'a/new=added', 'd/', 'd/fresh=only this', 'nothere/',
  's/', 's/keepdir/', 's/keepdir/minechild=same layer', 's/mine=same layer as the whiteout',
];

test('overlay mode stores overlayfs whiteouts, and an overlay of the two layers hides what layer 2 deleted', async (t) => {
  const l1 = join(tmp.dir, 'o-l1');
  const l2 = join(tmp.dir, 'o-l2');
  const merged = join(tmp.dir, 'o-merged');
  for (const d of [l1, l2, merged]) mkdirSync(d);
  await layer(lower, l1, 'overlay');
  const r = await layer(upper, l2, 'overlay');

  // Documentation/filesystems/overlayfs.rst: a whiteout is a char device 0:0 …
  for (const w of ['a/gone', 'a/gonedir', 'nothere/ghost']) {
    const st = lstatSync(join(l2, w));
    t.true(st.isCharacterDevice(), w);
    t.is(st.rdev, 0, w);
  }
  // … an opaque directory has trusted.overlay.opaque = "y".
  t.deepEqual(xattrsOf(join(l2, 'd')), { 'trusted.overlay.opaque': '79' });
  t.deepEqual(xattrsOf(join(l2, 's')), { 'trusted.overlay.opaque': '79' });
  t.deepEqual(xattrsOf(join(l2, 'a')), {});
  t.false(readdirSync(l2).includes('.wh..wh.plnk'));
  t.deepEqual(r.skipped.map((s) => s.path), ['s/.wh.mine', '.wh..wh.plnk', '.wh..wh.plnk/123.456']);
  t.regex(r.skipped[0]!.reason, /whiteout ignored: "mine" is in this same layer/);

  // Mount the two layers (layer 2 on top) in a throwaway mount namespace
  // and list what the kernel shows. (readdir of a directory that only one
  // layer has lists a whiteout in it as is — nothere/ghost — but a lookup
  // finds nothing: `test -e` keeps to what lookups see.)
  const script = `mount -t overlay overlay -o "lowerdir=$2:$1" "$3" && cd "$3" && find . -mindepth 1 -exec test -e {} \\; -print | sort && for f in $(find . -type f | sort); do printf '%s=%s\\n' "$f" "$(cat "$f")"; done`;
  const out = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-ec', script, 'sh', l1, l2, merged], { encoding: 'utf8' });
  t.is(out.status, 0, out.stderr);
  const lines = out.stdout.trim().split('\n').map((l) => l.replace(/^\.\//, ''));
  const files = lines.filter((l) => l.includes('='));
  const dirs = lines.filter((l) => !l.includes('=') && !files.some((f) => f.startsWith(`${l}=`)));
  t.deepEqual([...dirs.map((d) => `${d}/`), ...files].sort(), expected);
  t.is(readFileSync('/proc/self/mountinfo', 'utf8'), mountsBefore, 'the overlay mount stayed in its own namespace');
});

test('apply mode deletes in place: flattening the two layers gives what the overlay shows', async (t) => {
  const root = join(tmp.dir, 'flat');
  mkdirSync(root);
  await layer(lower, root, 'apply');
  const r = await layer(upper, root, 'apply');
  t.deepEqual(view(root), expected);
  t.deepEqual(r.skipped.map((s) => s.path), ['s/.wh.mine', '.wh..wh.plnk', '.wh..wh.plnk/123.456']);
  // Nothing of the whiteouts themselves is left.
  t.false(view(root).some((p) => p.includes('.wh.')));
});

test('apply mode: a whiteout removes a whole directory tree and a symlink, never what a symlink points to', async (t) => {
  const root = join(tmp.dir, 'flat-links');
  mkdirSync(root);
  await layer([
    { name: 'keep/', type: 'directory' },
    { name: 'keep/precious', content: 'must survive' },
    { name: 'link', type: 'symlink', linkname: 'keep' },
    { name: 'tree/', type: 'directory' },
    { name: 'tree/a/b/c', content: 'deep' },
  ], root, 'apply');
  await layer([{ name: '.wh.link', content: '' }, { name: '.wh.tree', content: '' }], root, 'apply');
  t.deepEqual(view(root), ['keep/', 'keep/precious=must survive']);
});
