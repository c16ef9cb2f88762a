// Maps and subordinate ids as data: parsing, translating, the kernel's rules.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@nsk/syscall';
import { hostState, leftSince } from '@nsk/testkit';
import { MAX_MAP_LINES, checkIdMap, formatIdMap, parseIdMap, parseSubordinate, readIdMap, subordinateIds, toInside, toOutside } from '../src/index.ts';

const before = hostState();
const base = mkdtempSync(join(tmpdir(), 'nsk-user-idmap-'));
test.after.always('nothing is left behind', (t) => {
  rmSync(base, { recursive: true, force: true });
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

test('a map parses from /proc’s padded columns and formats back to one line per range', (t) => {
  const text = '         0     100000      65536\n     65536     200000          1\n';
  const map = parseIdMap(text);
  t.deepEqual(map, [{ inside: 0, outside: 100000, count: 65536 }, { inside: 65536, outside: 200000, count: 1 }]);
  t.is(formatIdMap(map), '0 100000 65536\n65536 200000 1\n');
  t.throws(() => parseIdMap('0 1\n'), { message: /not an id map line/ });
});

test('this process, in the initial namespace, maps every id but 4294967295 to itself', (t) => {
  t.deepEqual(readIdMap('self', 'uid'), [{ inside: 0, outside: 0, count: 4294967295 }]);
  t.deepEqual(readIdMap(process.pid, 'gid'), [{ inside: 0, outside: 0, count: 4294967295 }]);
});

test('ids translate inside → outside and back; unmapped ids give null', (t) => {
  const map = [{ inside: 0, outside: 1000, count: 1 }, { inside: 1, outside: 100000, count: 65536 }];
  t.is(toOutside(map, 0), 1000);
  t.is(toOutside(map, 1000), 100999);
  t.is(toOutside(map, 65536), 165535);
  t.is(toOutside(map, 65537), null);
  t.is(toInside(map, 100999), 1000);
  t.is(toInside(map, 1000), 0);
  t.is(toInside(map, 0), null, 'host root is unmapped: the kernel shows it as the overflow id');
  for (const id of [0, 1, 500, 65536]) t.is(toInside(map, toOutside(map, id)!), id);
});

test('the kernel’s rules for a map are checked: count 0, overlaps inside and outside, more than 340 lines, (u32)-1, size', (t) => {
  const bad = (map: unknown, field: RegExp | string, message: RegExp) => {
    const e = t.throws(() => checkIdMap('uidMap', map as never), { instanceOf: ValidationError, message });
    if (typeof field === 'string') t.is(e?.field, field);
    else t.regex(e!.field, field);
  };
  t.notThrows(() => checkIdMap('uidMap', [{ inside: 0, outside: 1000, count: 1 }, { inside: 1, outside: 100000, count: 65536 }]));
  bad([], 'uidMap', /at least one range/);
  bad([{ inside: 0, outside: 1000, count: 0 }], 'uidMap[0].count', /count 0/);
  bad([{ inside: -1, outside: 1000, count: 1 }], 'uidMap[0].inside', /whole number/);
  bad([{ inside: 0, outside: 1.5, count: 1 }], 'uidMap[0].outside', /whole number/);
  bad([{ inside: 0, outside: 100000, count: 10 }, { inside: 5, outside: 200000, count: 10 }], 'uidMap', /ranges 0 and 1 overlap inside \(ids 5–9\)/);
  bad([{ inside: 0, outside: 100000, count: 10 }, { inside: 10, outside: 100009, count: 1 }], 'uidMap', /overlap outside \(ids 100009\)/);
  bad([{ inside: 4294967294, outside: 0, count: 2 }], /uidMap\[0\]/, /reaches id 4294967295/);
  bad([{ inside: 0, outside: 4294967295, count: 1 }], /uidMap\[0\]/, /reaches id 4294967295/);
  t.notThrows(() => checkIdMap('uidMap', [{ inside: 4294967294, outside: 0, count: 1 }]), '4294967294 is the last id');
  const many = Array.from({ length: MAX_MAP_LINES + 1 }, (_, i) => ({ inside: i, outside: 1000 + i, count: 1 }));
  bad(many, 'uidMap', /341 ranges; the kernel takes at most 340/);
  t.notThrows(() => checkIdMap('uidMap', many.slice(0, MAX_MAP_LINES)));
  const long = Array.from({ length: 200 }, (_, i) => ({ inside: 1_000_000_000 + i * 1000, outside: 2_000_000_000 + i * 1000, count: 1000 }));
  bad(long, 'uidMap', /bytes; the kernel takes it in one write/);
});

test('subuid(5) lines match the user by name or by numeric uid; comments and malformed lines are skipped', (t) => {
  const text = '# comment\nalice:100000:65536\n1000:300000:10\nbob:200000:65536\nalice:bad:1\n\nalice:400000:0\n';
  t.deepEqual(parseSubordinate(text, { name: 'alice', uid: 1000 }), [{ start: 100000, count: 65536 }, { start: 300000, count: 10 }]);
  t.deepEqual(parseSubordinate(text, { uid: 1000 }), [{ start: 300000, count: 10 }]);
  t.deepEqual(parseSubordinate(text, { name: 'carol', uid: 1002 }), []);
});

test('subordinateIds reads subuid, subgid and passwd, by name or by uid', (t) => {
  const files = { subuid: join(base, 'subuid'), subgid: join(base, 'subgid'), passwd: join(base, 'passwd') };
  writeFileSync(files.passwd, 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n');
  writeFileSync(files.subuid, 'alice:100000:65536\n');
  writeFileSync(files.subgid, '1000:100000:65536\n1000:300000:100\n');
  const want = { name: 'alice', uid: 1000, uids: [{ start: 100000, count: 65536 }], gids: [{ start: 100000, count: 65536 }, { start: 300000, count: 100 }] };
  t.deepEqual(subordinateIds('alice', files), want);
  t.deepEqual(subordinateIds(1000, files), want);
  t.deepEqual(subordinateIds('root', files), { name: 'root', uid: 0, uids: [], gids: [] });
  t.deepEqual(subordinateIds('nobody-here', { ...files, subuid: join(base, 'absent') }), { name: 'nobody-here', uid: undefined, uids: [], gids: [] });
});
