// The harness of the hostile-archive suite: each archive is unpacked into
// base/root with a sentinel directory planted next to it (base/sentinel,
// with a canary file), and must be refused with an UnsafeArchiveError that
// names the entry and the reason — and afterwards the sentinel, the rest of
// base, and the host files the archive aims at must be exactly as before.
import type { ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnsafeArchiveError, extractTar, type ExtractOptions } from '../src/index.ts';
import { chunked, openFds, pack, snapshot, tempDir, type Spec } from './layer-fixtures.ts';

/** A unique name no test run ever leaves anywhere: its presence proves a write. */
export const PWNED = `nsk-pwned-${process.pid}`;

export interface Arena {
  base: string;
  root: string;
  sentinel: string;
  done: () => void;
}

export function arena(tag: string): Arena {
  const t = tempDir(`hostile-${tag}`);
  const root = join(t.dir, 'root');
  const sentinel = join(t.dir, 'sentinel');
  mkdirSync(root);
  mkdirSync(join(sentinel, 'sub'), { recursive: true });
  writeFileSync(join(sentinel, 'canary'), 'the canary');
  return { base: t.dir, root, sentinel, done: t.done };
}

/** What must not change: everything in base but root, and these host files. */
function outside(a: Arena): string {
  const host = ['/etc/passwd', '/etc/hostname'].map((p) => {
    const st = lstatSync(p);
    return `${p} ${st.nlink} ${st.mode} ${st.uid} ${st.mtimeMs} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
  });
  const tree = [...snapshot(a.base)].filter(([p]) => p !== 'root' && !p.startsWith('root/')).map(([p, e]) => `${p} ${JSON.stringify(e)}`);
  const stray = ['/etc', '/tmp', '/'].map((d) => join(d, PWNED)).filter((p) => existsSync(p));
  return [...host, ...tree, `stray: ${stray.join(',')}`].join('\n');
}

export interface Refusal {
  /** The entry the error must name. */
  entry: string;
  /** What the reason must say. */
  reason: RegExp;
}

/**
 * Unpacks the archive `specs(a)` builds (or raw bytes) into a fresh arena's
 * root, after `setup` (which may plant things in root), and checks that it is
 * refused as `want` says and that nothing outside root changed and no fd
 * was left open. Returns the arena (already cleaned up) and the error.
 */
export async function refused(
  t: ExecutionContext, tag: string, specs: (a: Arena) => Spec[] | Buffer | Promise<Buffer>, want: Refusal,
  opts: Partial<ExtractOptions> = {}, setup?: (a: Arena) => void | Promise<void>,
): Promise<UnsafeArchiveError> {
  const a = arena(tag);
  try {
    await setup?.(a);
    const made = await specs(a);
    const bytes = Buffer.isBuffer(made) ? made : await pack(made);
    const before = outside(a);
    const fds = openFds();
    const err = await t.throwsAsync(extractTar(chunked(bytes, 777), a.root, { whiteouts: 'overlay', ...opts }), { instanceOf: UnsafeArchiveError });
    t.is(err.entry, want.entry);
    t.regex(err.reason, want.reason);
    t.is(err.code, 'ERR_NSK_UNSAFE_ARCHIVE');
    t.true(err.message.includes(JSON.stringify(want.entry)), err.message);
    t.is(outside(a), before, 'nothing outside the root changed');
    t.deepEqual(openFds(), fds, 'no fd left open');
    return err;
  } finally {
    a.done();
  }
}
