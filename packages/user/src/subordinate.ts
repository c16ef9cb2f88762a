// Subordinate ids (subuid(5), subgid(5)): ranges of host ids that an
// administrator has set aside for one user's namespaces. Each line is
// `owner:start:count`, where owner is a login name or a numeric uid; the
// setuid newuidmap/newgidmap accept maps inside these ranges.
import { existsSync, readFileSync } from 'node:fs';

export interface SubordinateRange {
  /** The first host id. */
  readonly start: number;
  readonly count: number;
}

export interface SubordinateIds {
  /** The user's login name, when /etc/passwd knows it. */
  readonly name: string | undefined;
  readonly uid: number | undefined;
  /** From /etc/subuid. */
  readonly uids: SubordinateRange[];
  /** From /etc/subgid (keyed by user too, not by group). */
  readonly gids: SubordinateRange[];
}

export interface SubordinateFiles {
  subuid?: string;
  subgid?: string;
  passwd?: string;
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

/**
 * The ranges of subuid(5)/subgid(5) text that belong to the user named
 * `name` or numbered `uid` (either form may appear in the file). Comments,
 * blank and malformed lines are skipped, as newuidmap skips them.
 */
export function parseSubordinate(text: string, owner: { name?: string | undefined; uid?: number | undefined }): SubordinateRange[] {
  const out: SubordinateRange[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length !== 3 || !/^\d+$/.test(f[1]!) || !/^\d+$/.test(f[2]!)) continue;
    const who = f[0]!;
    const mine = (owner.name !== undefined && who === owner.name) || (owner.uid !== undefined && /^\d+$/.test(who) && Number(who) === owner.uid);
    if (mine && Number(f[2]) > 0) out.push({ start: Number(f[1]), count: Number(f[2]) });
  }
  return out;
}

/** passwd(5): name ↔ uid, from the file (no NSS: LDAP users are not found by name). */
function lookUp(user: string | number, passwd: string): { name: string | undefined; uid: number | undefined } {
  for (const line of read(passwd).split('\n')) {
    const [name, , uid] = line.split(':');
    if (name === undefined || uid === undefined || !/^\d+$/.test(uid)) continue;
    if (name === user || Number(uid) === user) return { name, uid: Number(uid) };
  }
  return typeof user === 'number' ? { name: undefined, uid: user } : { name: user, uid: undefined };
}

/**
 * The subordinate uids and gids of `user` (a login name or a uid), as
 * newuidmap/newgidmap would grant them. `getsubids USER` and `getsubids -g USER`.
 */
export function subordinateIds(user: string | number, files: SubordinateFiles = {}): SubordinateIds {
  const who = lookUp(user, files.passwd ?? '/etc/passwd');
  return {
    ...who,
    uids: parseSubordinate(read(files.subuid ?? '/etc/subuid'), who),
    gids: parseSubordinate(read(files.subgid ?? '/etc/subgid'), who),
  };
}
