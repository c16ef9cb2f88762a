// config.json `linux.namespaces` and the id maps of a new user namespace.
import type { NamespaceType } from '@nsk/ns';
import type { IdRange } from '@nsk/user';
import { array, bad, integer, known, object, optString } from './json.ts';

export interface NamespaceSpec { type: NamespaceType; path: string | null }

/** runtime-spec names → @nsk names. */
const TYPES: Readonly<Record<string, NamespaceType>> = {
  pid: 'pid', network: 'net', mount: 'mount', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time',
};

export function checkNamespaces(v: unknown): NamespaceSpec[] {
  if (v === undefined || v === null) return [];
  const seen = new Set<string>();
  return array('linux.namespaces', v).map((n, i) => {
    const f = `linux.namespaces[${i}]`;
    const o = object(f, n);
    known(f, o, ['type', 'path']);
    const t = TYPES[o.type as string];
    if (t === undefined) bad(`${f}.type`, `unknown namespace ${JSON.stringify(o.type)} (one of ${Object.keys(TYPES).join(', ')})`);
    if (seen.has(t!)) bad(`${f}.type`, `${String(o.type)} is given twice`);
    seen.add(t!);
    const path = optString(`${f}.path`, o.path) || null;
    if (path !== null && !path.startsWith('/')) bad(`${f}.path`, `must be an absolute path: ${JSON.stringify(path)}`);
    return { type: t!, path };
  });
}

export function checkIdMappings(field: string, v: unknown): IdRange[] {
  if (v === undefined || v === null) return [];
  const list = array(field, v).map((m, i) => {
    const f = `${field}[${i}]`;
    const o = object(f, m);
    known(f, o, ['containerID', 'hostID', 'size']);
    return { inside: integer(`${f}.containerID`, o.containerID, 0, 0xfffffffe), outside: integer(`${f}.hostID`, o.hostID, 0, 0xfffffffe), count: integer(`${f}.size`, o.size, 1, 0xffffffff) };
  });
  // user_namespaces(7): at most 340 lines, and ranges may not overlap.
  if (list.length > 340) bad(field, 'at most 340 ranges (user_namespaces(7))');
  return list;
}
