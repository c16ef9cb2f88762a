// The progress bar: lines redrawn in place on a terminal, silence elsewhere.
import test from 'ava';
import { progressBar } from '../src/registry/index.ts';
import { formatBytes, formatLine } from '../src/registry/progress-bar.ts';

/** A stand-in for process.stderr that records what is written. */
function fakeStream(isTTY: boolean, columns = 100): NodeJS.WriteStream & { out: string[] } {
  const out: string[] = [];
  return { isTTY, columns, out, write(s: string) { out.push(s); return true; } } as unknown as NodeJS.WriteStream & { out: string[] };
}

const A = `sha256:${'0123456789ab'.padEnd(64, 'c')}`;
const B = `sha256:${'fedcba987654'.padEnd(64, 'd')}`;

test('not a terminal: nothing at all is written', (t) => {
  const s = fakeStream(false);
  const bar = progressBar(s);
  for (let i = 0; i <= 10; i++) bar({ phase: 'download', item: A, done: i * 100, total: 1000 });
  bar({ phase: 'commit', done: 1, total: 1 });
  t.deepEqual(s.out, []);
});

test('a terminal: one line per layer and phase, redrawn in place with ANSI cursor-up and erase-line', (t) => {
  const s = fakeStream(true);
  const bar = progressBar(s);
  bar({ phase: 'download', item: A, done: 0, total: 2 << 20 });
  bar({ phase: 'download', item: B, done: 0, total: 1000 });
  bar({ phase: 'download', item: A, done: 1 << 20, total: 2 << 20 }); // throttled: within 100 ms, not finished
  bar({ phase: 'download', item: B, done: 1000, total: 1000 });     // finished: drawn at once
  t.is(s.out.length, 3);
  // First draw: one line, no cursor movement.
  t.is(s.out[0], `\r\x1b[2K${formatLine({ phase: 'download', item: A, done: 0, total: 2 << 20 }, 99)}\n`);
  t.false(s.out[0]!.includes('\x1b[1A'));
  // Second: back up over the one line drawn, then both lines.
  t.true(s.out[1]!.startsWith('\x1b[1A\r\x1b[2K'));
  t.is(s.out[1]!.split('\n').length - 1, 2);
  // Third: back up two lines; A shows its latest state (1 MiB of 2), B is full.
  const last = s.out[2]!;
  t.true(last.startsWith('\x1b[2A'));
  const lines = last.slice('\x1b[2A'.length).split('\n').filter(Boolean).map((l) => l.replace('\r\x1b[2K', ''));
  t.deepEqual(lines, [
    formatLine({ phase: 'download', item: A, done: 1 << 20, total: 2 << 20 }, 99),
    formatLine({ phase: 'download', item: B, done: 1000, total: 1000 }, 99),
  ]);
  t.regex(lines[0]!, /^download sha256:0123456789ab  \[=+> +\]  1\.0 MiB \/ 2\.0 MiB  50%$/);
  t.regex(lines[1]!, /^download sha256:fedcba987654  \[=+\]  1000 B \/ 1000 B 100%$/);
});

test('lines fit the terminal width; counts that are not bytes are shown as numbers', (t) => {
  const narrow = formatLine({ phase: 'download', item: A, done: 5, total: 10 }, 40);
  t.true(narrow.length <= 40, narrow);
  t.is(formatLine({ phase: 'commit', done: 1, total: 3 }, 80).replace(/\[.*\]/, '[]'), 'commit  []  1 / 3  33%');
  t.is(formatLine({ phase: 'layer', item: '/tmp/x.tar', done: 2048 }, 80), 'layer /tmp/x.tar  2.0 KiB');
  t.is(formatBytes(0), '0 B');
  t.is(formatBytes(1536), '1.5 KiB');
  t.is(formatBytes(3 * 1024 ** 3), '3.0 GiB');
});
