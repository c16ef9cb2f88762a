// uid_map and gid_map (user_namespaces(7)): each line says that `count` ids
// starting at `inside` in the namespace are the ids starting at `outside` in
// the parent namespace.
import { readFileSync } from 'node:fs';
import { ValidationError } from '@nsk/syscall';

/** One line of a uid_map or gid_map. */
export interface IdRange {
  /** The first id as the namespace sees it. */
  readonly inside: number;
  /** The same id in the parent namespace. */
  readonly outside: number;
  /** How many consecutive ids, at least 1. */
  readonly count: number;
}

export type IdMap = readonly IdRange[];
export type IdKind = 'uid' | 'gid';

/** user_namespaces(7): "the kernel imposes a limit of 340 lines" (since Linux 4.15). */
export const MAX_MAP_LINES = 340;
/**
 * user_namespaces(7): the map is written "in a single write(2)"; the kernel
 * takes less than a page (map_write refuses count >= PAGE_SIZE). 4096 is the
 * smallest page size on x86_64 and aarch64.
 */
export const MAX_MAP_BYTES = 4095;
/** (u32)-1 is no id: the kernel rejects it as a start and refuses ranges that reach it. */
const NO_ID = 0xffffffff;

/** `"0 1000 1\n1 100000 65536\n"` → ranges. The columns may be padded with spaces, as /proc prints them. */
export function parseIdMap(text: string): IdRange[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length !== 3 || f.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`not an id map line: ${JSON.stringify(line)}`);
    return { inside: f[0]!, outside: f[1]!, count: f[2]! };
  });
}

/** Ranges → the text written to /proc/PID/uid_map, one line each. */
export function formatIdMap(map: IdMap): string {
  return map.map((r) => `${r.inside} ${r.outside} ${r.count}\n`).join('');
}

/**
 * The uid or gid map of `pid`, as this process reads it. user_namespaces(7):
 * the outside column is relative to the reader's user namespace (or to the
 * parent namespace when the reader is inside the same namespace as `pid`).
 */
export function readIdMap(pid: number | 'self', kind: IdKind): IdRange[] {
  return parseIdMap(readFileSync(`/proc/${pid}/${kind}_map`, 'utf8'));
}

/** The id `inside` the namespace stands for outside it; null when unmapped. */
export function toOutside(map: IdMap, inside: number): number | null {
  const r = map.find((x) => inside >= x.inside && inside - x.inside < x.count);
  return r ? r.outside + (inside - r.inside) : null;
}

/** The id an `outside` id is known by inside the namespace; null when unmapped (the kernel shows it as the overflow id, 65534). */
export function toInside(map: IdMap, outside: number): number | null {
  const r = map.find((x) => outside >= x.outside && outside - x.outside < x.count);
  return r ? r.inside + (outside - r.outside) : null;
}

const show = (r: IdRange) => `{ inside: ${r.inside}, outside: ${r.outside}, count: ${r.count} }`;
const span = (start: number, count: number) => (count === 1 ? `${start}` : `${start}–${start + count - 1}`);

function overlap(a: number, b: number, aCount: number, bCount: number): [number, number] | null {
  const lo = Math.max(a, b);
  const hi = Math.min(a + aCount, b + bCount);
  return lo < hi ? [lo, hi - lo] : null;
}

/**
 * Throws a ValidationError unless the kernel would take `map` as a
 * uid_map/gid_map (user_namespaces(7) "Defining user and group ID mappings"):
 * at least one and at most 340 ranges, counts of at least 1, ids below
 * 4294967295, and no two ranges overlapping inside or outside.
 */
export function checkIdMap(field: string, map: IdMap): void {
  if (!Array.isArray(map) || map.length === 0) throw new ValidationError(field, 'give at least one range { inside, outside, count }');
  if (map.length > MAX_MAP_LINES) throw new ValidationError(field, `${map.length} ranges; the kernel takes at most ${MAX_MAP_LINES} lines (user_namespaces(7))`);
  map.forEach((r, i) => {
    for (const key of ['inside', 'outside', 'count'] as const) {
      const v = r?.[key];
      if (!Number.isInteger(v) || v < 0) throw new ValidationError(`${field}[${i}].${key}`, `not a whole number ≥ 0: ${String(v)}`);
    }
    if (r.count === 0) throw new ValidationError(`${field}[${i}].count`, 'a range maps at least one id (count 0 is refused by the kernel)');
    for (const key of ['inside', 'outside'] as const) {
      if (r[key] + r.count > NO_ID) throw new ValidationError(`${field}[${i}]`, `${show(r)} reaches id ${NO_ID}, which is no id (user_namespaces(7))`);
    }
  });
  for (let i = 0; i < map.length; i++) {
    for (let j = i + 1; j < map.length; j++) {
      const a = map[i]!;
      const b = map[j]!;
      for (const key of ['inside', 'outside'] as const) {
        const o = overlap(a[key], b[key], a.count, b.count);
        if (o) throw new ValidationError(field, `ranges ${i} and ${j} overlap ${key} (ids ${span(o[0], o[1])}): ${show(a)}, ${show(b)}`);
      }
    }
  }
  const bytes = Buffer.byteLength(formatIdMap(map));
  if (bytes > MAX_MAP_BYTES) throw new ValidationError(field, `the map is ${bytes} bytes; the kernel takes it in one write of at most ${MAX_MAP_BYTES}`);
}

/** True when every id of `count` from `start` lies in `ranges` (which may be adjacent). */
export function covered(ranges: ReadonlyArray<{ start: number; count: number }>, start: number, count: number): boolean {
  let at = start;
  const end = start + count;
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  for (const r of sorted) {
    if (r.start <= at && at < r.start + r.count) at = r.start + r.count;
    if (at >= end) return true;
  }
  return at >= end;
}

export { show as showRange, span as showSpan };
