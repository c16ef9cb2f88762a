// The hugetlb controller: page sizes named as the kernel names them, limits
// refused before anything is made, and a limit the kernel enforces — a task
// that faults in more huge pages than its group may have dies of SIGBUS.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@nsk/syscall';
import { hostState, leftSince } from '@nsk/testkit';
import { Cgroup, detectLayout, hugePageSizes, pageSizeName, resourceSide, v1Files, v2Files, validateLimits } from '../src/index.ts';
import { leftoverGroups } from './helpers.ts';

const NR = '/proc/sys/vm/nr_hugepages';
const before = hostState();

test.after.always('no cgroup, process, mount or fd of this test is left', (t) => {
  t.deepEqual(leftoverGroups(), []);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

test('page sizes are named as the kernel names its files, from /sys/kernel/mm/hugepages', (t) => {
  t.is(pageSizeName(64), '64KB');
  t.is(pageSizeName(2048), '2MB');
  t.is(pageSizeName(32768), '32MB');
  t.is(pageSizeName(1048576), '1GB');
  const sys = mkdtempSync(join(tmpdir(), 'nsk-hugepages-'));
  for (const d of ['hugepages-2048kB', 'hugepages-1048576kB', 'not-a-size']) mkdirSync(join(sys, d));
  t.deepEqual(hugePageSizes(sys), ['1GB', '2MB']);
  t.deepEqual(hugePageSizes(join(sys, 'absent')), []);
  rmSync(sys, { recursive: true });
  // This host (x86_64) has 2 MB pages; the sizes given here are its own.
  t.true(hugePageSizes().includes('2MB'));
});

test('limits become hugetlb.<size>.limit_in_bytes (v1) and hugetlb.<size>.max (v2), and their rsvd twins where the kernel has them; bad sizes and values fail naming the size', (t) => {
  const limits = { hugetlb: { '2MB': 4 << 20 } };
  t.deepEqual(v1Files(limits), [
    { controller: 'hugetlb', file: 'hugetlb.2MB.limit_in_bytes', value: String(4 << 20) },
    { controller: 'hugetlb', file: 'hugetlb.2MB.rsvd.limit_in_bytes', value: String(4 << 20), optional: true },
  ]);
  t.deepEqual(v2Files(limits), [
    { controller: 'hugetlb', file: 'hugetlb.2MB.max', value: String(4 << 20) },
    { controller: 'hugetlb', file: 'hugetlb.2MB.rsvd.max', value: String(4 << 20), optional: true },
  ]);
  t.notThrows(() => validateLimits({ hugetlb: { '2MB': 0 } }));
  const size = t.throws(() => validateLimits({ hugetlb: { '3MB': 1 } }), { instanceOf: ValidationError });
  t.is(size.field, 'limits.hugetlb.3MB');
  t.regex(size.message, /no "3MB" huge pages \(it has .*2MB/);
  const value = t.throws(() => validateLimits({ hugetlb: { '2MB': -1 } }), { instanceOf: ValidationError });
  t.is(value.field, 'limits.hugetlb.2MB');
  t.throws(() => Cgroup.create({ name: `nsk-${process.pid}-bad`, limits: { hugetlb: { '2MB': 1.5 } } }), { instanceOf: ValidationError });
  t.deepEqual(leftoverGroups(), []);
});

/** Runs the fixture in `group`: it maps and touches `pages` huge pages once it is in the group. */
function touch(group: Cgroup, pages: number, noreserve = false): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  const args = [join(import.meta.dirname, 'fixtures', 'hugetlb-touch.ts'), String(pages), ...(noreserve ? ['noreserve'] : [])];
  const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d; });
  group.attach(child.pid!);
  child.stdin.end('go\n');
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out })));
}

test.serial('the kernel enforces it: within the limit the pages are used; past it mmap fails, or without a reservation the fault is SIGBUS', async (t) => {
  const side = resourceSide(detectLayout(), 'hugetlb');
  t.not(side, null, 'this host has a hugetlb controller (v2 on the hybrid lab)');
  // Two free 2 MB pages in the host's pool for the test, then the pool as it was.
  const had = readFileSync(NR, 'utf8').trim();
  writeFileSync(NR, String(Number(had) + 2));
  try {
    t.true(Number(readFileSync(NR, 'utf8')) >= Number(had) + 2, 'the kernel found two free huge pages');
    const g = Cgroup.create({ name: `nsk-${process.pid}-huge`, limits: { hugetlb: { '2MB': 2 << 20 } } });
    try {
      const dir = side === 'v2' ? g.v2Dir! : g.v1Dir('hugetlb')!;
      for (const f of side === 'v2' ? ['hugetlb.2MB.max', 'hugetlb.2MB.rsvd.max'] : ['hugetlb.2MB.limit_in_bytes', 'hugetlb.2MB.rsvd.limit_in_bytes']) {
        t.is(readFileSync(join(dir, f), 'utf8').trim(), String(2 << 20), f);
      }
      t.deepEqual(await touch(g, 1), { code: 0, signal: null, out: 'touched 1\n' });
      // Two pages: the reservation is over the rsvd limit, and mmap says so.
      t.deepEqual(await touch(g, 2), { code: 2, signal: null, out: 'mmap ENOMEM\n' });
      // Nothing reserved: the second page's fault is over the limit.
      t.deepEqual(await touch(g, 2, true), { code: null, signal: 'SIGBUS', out: '' });
      // The failure is counted where the kernel keeps it.
      if (side === 'v2') t.regex(readFileSync(join(dir, 'hugetlb.2MB.events'), 'utf8'), /^max [1-9]/m);
      else t.true(Number(readFileSync(join(dir, 'hugetlb.2MB.failcnt'), 'utf8')) > 0);
    } finally {
      await g.delete();
    }
  } finally {
    writeFileSync(NR, had);
  }
  t.is(readFileSync(NR, 'utf8').trim(), had);
});
