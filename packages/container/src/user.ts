// Who the container's program runs as: "uid[:gid]", "name[:group]", mixed,
// resolved the way Docker (runc's user.GetExecUser) does, against the
// rootfs's own /etc/passwd and /etc/group — read from the host side with
// read-in-root.ts, so a hostile image cannot point them at the host's files.
import { ValidationError } from '@nsk/syscall';
import { readInRoot } from './read-in-root.ts';

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: the groups of /etc/group that list the user by name. */
  groups: number[];
  /** From /etc/passwd; "/" when the user has no entry (Docker's default). */
  home: string;
}

export interface PasswdEntry { name: string; uid: number; gid: number; home: string }
export interface GroupEntry { name: string; gid: number; members: string[] }

/** passwd(5) lines: name:password:uid:gid:gecos:home:shell. Malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) return [];
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!isId(uid) || !isId(gid)) return [];
    return [{ name: f[0]!, uid, gid, home: f[5] || '/' }];
  });
}

/** group(5) lines: name:password:gid:member,member. */
export function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) return [];
    const gid = Number(f[2]);
    if (!isId(gid)) return [];
    return [{ name: f[0]!, gid, members: f[3]!.split(',').map((m) => m.trim()).filter(Boolean) }];
  });
}

const isId = (n: number) => Number.isInteger(n) && n >= 0 && n < 0xffffffff;
const NUMERIC = /^\d+$/;

/** Checks the form of a user spec: `user`, `user:group`, each a name or a number. */
export function checkUserSpec(spec: unknown, field = 'user'): { user: string; group: string | undefined } {
  if (typeof spec !== 'string' || !/^[^:\s\0]+(:[^:\s\0]+)?$/.test(spec)) {
    throw new ValidationError(field, `${JSON.stringify(spec)} is not "uid[:gid]" or "name[:group]"`);
  }
  const [user, group] = spec.split(':') as [string, string | undefined];
  for (const [what, v] of [['uid', user], ['gid', group]] as const) {
    if (v !== undefined && NUMERIC.test(v) && !isId(Number(v))) throw new ValidationError(field, `${what} ${v} is out of range (0 … 4294967294)`);
  }
  return { user, group };
}

/**
 * Resolves `spec` inside the first of `roots` that has the files (an image's
 * layers, topmost first; or one rootfs). A name must exist; a numeric uid
 * without an entry runs with gid 0 and home "/", as in Docker.
 */
export function resolveUser(spec: string, roots: readonly string[], field = 'user'): ResolvedUser {
  const { user, group } = checkUserSpec(spec, field);
  const read = (file: string) => {
    for (const root of roots) {
      let text: string | null;
      try {
        text = readInRoot(root, file);
      } catch (err) {
        throw new ValidationError(field, `cannot read ${file} of the rootfs: ${(err as Error).message}`);
      }
      if (text !== null) return text;
    }
    return '';
  };
  const passwd = parsePasswd(read('/etc/passwd'));
  const groups = parseGroup(read('/etc/group'));
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (NUMERIC.test(user)) {
    uid = Number(user);
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === user);
    if (!entry) throw new ValidationError(field, `no user ${JSON.stringify(user)} in the rootfs's /etc/passwd`);
    uid = entry.uid;
  }
  let gid = entry?.gid ?? 0;
  if (group !== undefined) {
    if (NUMERIC.test(group)) gid = Number(group);
    else {
      const g = groups.find((x) => x.name === group);
      if (!g) throw new ValidationError(field, `no group ${JSON.stringify(group)} in the rootfs's /etc/group`);
      gid = g.gid;
    }
  }
  // Docker adds the groups that list the user by name; an explicit group
  // replaces only the primary one.
  const extra = entry ? groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid) : [];
  return { uid, gid, groups: [...new Set(extra)].filter((g) => g !== gid), home: entry?.home ?? '/' };
}
