// Who is asking for the namespace. What the parent may write into the
// child's maps depends on it (user_namespaces(7) "Defining user and group ID
// mappings: writing to uid_map and gid_map").
import { readFileSync } from 'node:fs';
import { readIdMap, type IdRange } from './id-map.ts';
import { subordinateIds, type SubordinateIds } from './subordinate.ts';

/** capabilities(7) bit numbers. */
const CAP_SETGID = 6n;
const CAP_SETUID = 7n;

export interface Caller {
  /** Effective uid: the owner of the namespaces it creates, and the id it may map alone. */
  readonly uid: number;
  readonly gid: number;
  /** CAP_SETUID in its own user namespace (the new namespace's parent): it may write any uid map. */
  readonly canSetUid: boolean;
  /** CAP_SETGID there: it may write any gid map, and setgroups stays allowed. */
  readonly canSetGid: boolean;
  /** The ids that exist in the caller's namespace: a map's outside ids must be among them. */
  readonly ownUidMap: readonly IdRange[];
  readonly ownGidMap: readonly IdRange[];
  /** Its ranges in /etc/subuid and /etc/subgid. */
  readonly subordinate: SubordinateIds;
}

function statusField(status: string, key: string): string {
  const m = new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(status);
  if (!m) throw new Error(`/proc/self/status has no ${key} line`);
  return m[1]!;
}

/** This process, from /proc/self/status, its own maps and /etc/sub{u,g}id. */
export function currentCaller(): Caller {
  const status = readFileSync('/proc/self/status', 'utf8');
  // "Uid: real effective saved filesystem"
  const uid = Number(statusField(status, 'Uid').split(/\s+/)[1]);
  const gid = Number(statusField(status, 'Gid').split(/\s+/)[1]);
  const capEff = BigInt(`0x${statusField(status, 'CapEff')}`);
  return {
    uid,
    gid,
    canSetUid: ((capEff >> CAP_SETUID) & 1n) === 1n,
    canSetGid: ((capEff >> CAP_SETGID) & 1n) === 1n,
    ownUidMap: readIdMap('self', 'uid'),
    ownGidMap: readIdMap('self', 'gid'),
    subordinate: subordinateIds(uid),
  };
}
