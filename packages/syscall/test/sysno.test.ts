import test from 'ava';
import { readFileSync } from 'node:fs';
import { SYSCALL_NAMES, sysno, syscallNames } from '../src/index.ts';

function header(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of readFileSync(path, 'utf8').matchAll(/^#define __NR(?:3264)?_(\w+)\s+(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

test('x86_64 syscall numbers match asm/unistd_64.h', (t) => {
  const h = header('/usr/include/x86_64-linux-gnu/asm/unistd_64.h');
  for (const name of SYSCALL_NAMES) t.is(h.get(name), sysno(name, "x86_64"), name);
});

test('aarch64 syscall numbers match asm-generic/unistd.h', (t) => {
  const h = header('/usr/include/asm-generic/unistd.h');
  for (const name of SYSCALL_NAMES) t.is(h.get(name), sysno(name, "aarch64"), name);
});

test('numbers map back to names for printing plans', (t) => {
  t.is(syscallNames('x86_64').get(165), 'mount');
  t.is(syscallNames('aarch64').get(40), 'mount');
});
