// Deciding, before clone(2), what the maps will be, who writes them and
// whether setgroups(2) stays allowed. Pure: it looks only at the Caller it
// is given, so every rule can be tested without root.
import { ValidationError } from '@nsk/syscall';
import { checkIdMap, covered, showRange, showSpan, toOutside, type IdKind, type IdMap, type IdRange } from './id-map.ts';
import { mapperFor, type IdMapper } from './newidmap.ts';
import type { Caller } from './caller.ts';
import type { SubordinateRange } from './subordinate.ts';

/**
 * A map: explicit ranges; `'self'`, the caller's own id as `inside` 0
 * (`0 <euid> 1`, as `unshare -r`); or `'subordinate'`, the own id as 0 and
 * then every subordinate range of the caller from 1 on (as podman does).
 */
export type MapSource = IdMap | 'self' | 'subordinate';

export interface UserOptions {
  /** Default `'self'`. */
  uidMap?: MapSource;
  /** Default `'self'`. */
  gidMap?: MapSource;
  /** The uid the program runs as, inside. Default 0. */
  uid?: number;
  /** The gid the program runs as, inside. Default 0. */
  gid?: number;
  /**
   * Supplementary groups inside. Default none when setgroups(2) is allowed;
   * refused when it is denied (a rootless single gid map).
   */
  groups?: readonly number[];
}

/** Who writes a map: this process directly, or the setuid helper. */
export type MapWriter = 'direct' | IdMapper;

export interface Mapping {
  readonly uidMap: IdMap;
  readonly gidMap: IdMap;
  readonly uidWriter: MapWriter;
  readonly gidWriter: MapWriter;
  /** What /proc/PID/setgroups will say once the maps are written. */
  readonly setgroups: 'allow' | 'deny';
  readonly uid: number;
  readonly gid: number;
  /** Set with setgroups(2) in the child; null when setgroups is denied. */
  readonly groups: readonly number[] | null;
}

const ownId = (c: Caller, kind: IdKind) => (kind === 'uid' ? c.uid : c.gid);
const subIds = (c: Caller, kind: IdKind): SubordinateRange[] => (kind === 'uid' ? c.subordinate.uids : c.subordinate.gids);
const subFile = (kind: IdKind) => (kind === 'uid' ? '/etc/subuid' : '/etc/subgid');
const who = (c: Caller) => c.subordinate.name ?? `uid ${c.uid}`;
const privileged = (c: Caller, kind: IdKind) => (kind === 'uid' ? c.canSetUid : c.canSetGid);

/** `'subordinate'` as ranges: own id → 0, then the subordinate ranges back to back from inside 1. */
export function subordinateMap(c: Caller, kind: IdKind): IdRange[] {
  const ranges = subIds(c, kind);
  if (ranges.length === 0) throw new ValidationError(`${kind}Map`, `${who(c)} has no subordinate ${kind}s in ${subFile(kind)} (subuid(5)); add a line such as "${who(c)}:100000:65536"`);
  const map: IdRange[] = [{ inside: 0, outside: ownId(c, kind), count: 1 }];
  let next = 1;
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    if (r.start <= ownId(c, kind) && ownId(c, kind) < r.start + r.count) continue; // would overlap the own id
    map.push({ inside: next, outside: r.start, count: r.count });
    next += r.count;
  }
  return map;
}

function resolveMap(c: Caller, kind: IdKind, source: MapSource | undefined): IdMap {
  if (source === undefined || source === 'self') return [{ inside: 0, outside: ownId(c, kind), count: 1 }];
  if (source === 'subordinate') return subordinateMap(c, kind);
  if (typeof source === 'string') throw new ValidationError(`${kind}Map`, `unknown map ${JSON.stringify(source)} (give ranges, 'self' or 'subordinate')`);
  return source;
}

/** Chooses who writes the map, and refuses maps that writer may not write. */
function writerFor(c: Caller, kind: IdKind, map: IdMap): MapWriter {
  const field = `${kind}Map`;
  if (privileged(c, kind)) {
    // user_namespaces(7): "the mapped user IDs (group IDs) must in turn have
    // a mapping in the parent user namespace".
    const own = kind === 'uid' ? c.ownUidMap : c.ownGidMap;
    for (const r of map) {
      if (!covered(own.map((o) => ({ start: o.inside, count: o.count })), r.outside, r.count)) {
        throw new ValidationError(field, `${showRange(r)}: outside ${kind}s ${showSpan(r.outside, r.count)} are not mapped in this process's user namespace`);
      }
    }
    return 'direct';
  }
  // user_namespaces(7), case (b): without CAP_SETUID (CAP_SETGID) in the
  // parent namespace, only one line mapping the writer's own effective id.
  const own = ownId(c, kind);
  if (map.length === 1 && map[0]!.count === 1 && map[0]!.outside === own) return 'direct';
  // Anything more goes through the setuid helper, which accepts the own id
  // alone and ranges inside the caller's subordinate ids.
  const sub = subIds(c, kind);
  for (const r of map) {
    if (r.count === 1 && r.outside === own) continue;
    if (!covered(sub, r.outside, r.count)) {
      const have = sub.length ? sub.map((s) => showSpan(s.start, s.count)).join(', ') : 'none';
      throw new ValidationError(field, `${showRange(r)}: outside ${kind}s ${showSpan(r.outside, r.count)} are not ${who(c)}'s own ${kind} (${own}) nor among its subordinate ${kind}s in ${subFile(kind)} (${have})`);
    }
  }
  return mapperFor(kind);
}

function checkId(field: string, id: unknown, map: IdMap, call: string): number {
  if (!Number.isInteger(id) || (id as number) < 0) throw new ValidationError(field, `not a whole number ≥ 0: ${String(id)}`);
  if (toOutside(map, id as number) === null) throw new ValidationError(field, `${String(id)} is not mapped inside (${call} would fail with EINVAL)`);
  return id as number;
}

/**
 * Everything about the namespace's ids, decided and checked before anything
 * is created. Throws ValidationError for maps the kernel or newuidmap would
 * refuse, and for ids the child could not switch to.
 */
export function resolveMapping(o: UserOptions, c: Caller): Mapping {
  const uidMap = resolveMap(c, 'uid', o.uidMap);
  const gidMap = resolveMap(c, 'gid', o.gidMap);
  checkIdMap('uidMap', uidMap);
  checkIdMap('gidMap', gidMap);
  const uidWriter = writerFor(c, 'uid', uidMap);
  const gidWriter = writerFor(c, 'gid', gidMap);
  // user_namespaces(7) "The /proc/[pid]/setgroups file": an unprivileged
  // writer of gid_map must deny setgroups first. newgidmap leaves it allowed
  // when a range came from /etc/subgid (the administrator granted those
  // groups); a privileged writer needs no denial.
  const setgroups = gidWriter === 'direct' && !c.canSetGid ? 'deny' : 'allow';
  const uid = checkId('uid', o.uid ?? 0, uidMap, 'setresuid(2)');
  const gid = checkId('gid', o.gid ?? 0, gidMap, 'setresgid(2)');
  let groups: readonly number[] | null = null;
  if (o.groups !== undefined) {
    if (!Array.isArray(o.groups)) throw new ValidationError('groups', 'give an array of gids');
    if (setgroups === 'deny' && o.groups.length > 0) {
      throw new ValidationError('groups', 'setgroups(2) is denied in this namespace: an unprivileged process writes its own single gid map only after writing "deny" to /proc/PID/setgroups (user_namespaces(7)); map subordinate gids (gidMap: "subordinate") to allow it');
    }
    o.groups.forEach((g, i) => checkId(`groups[${i}]`, g, gidMap, 'setgroups(2)'));
  }
  if (setgroups === 'allow') groups = o.groups ?? [];
  return { uidMap, gidMap, uidWriter, gidWriter, setgroups, uid, gid, groups };
}
