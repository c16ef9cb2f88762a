import test from 'ava';
import { readFileSync } from 'node:fs';
import { ERRNO, errnoName, errnoNumber, errnoText } from '../src/index.ts';

function headerErrnos(): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of ['/usr/include/asm-generic/errno-base.h', '/usr/include/asm-generic/errno.h']) {
    for (const m of readFileSync(f, 'utf8').matchAll(/^#define\s+(E[A-Z0-9]+)\s+(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

test('every errno in the kernel headers has the same number here', (t) => {
  const headers = headerErrnos();
  t.true(headers.size > 120);
  for (const [name, n] of headers) t.is(ERRNO[name], n, name);
});

test('errno numbers read as names and words', (t) => {
  t.is(errnoName(2), 'ENOENT');
  t.is(errnoText(2), 'No such file or directory');
  t.is(errnoNumber('ENODEV'), 19);
  t.is(errnoName(4000), 'E#4000');
  t.throws(() => errnoNumber('ENOPE'), { instanceOf: RangeError });
});
