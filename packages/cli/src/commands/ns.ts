// nsk ns: the host's namespaces, as lsns(8) lists them (@nsk/ns list()).
import { parse, printUsage, expectPositionals, usageFail, type CommandSpec } from '../args.ts';
import { table } from '../table.ts';

export const spec: CommandSpec = {
  name: 'ns',
  synopsis: '[-t TYPE]... [--json]',
  summary: 'Lists every namespace some process is in: its inode, kind, how many\nprocesses, the first of them, and its command (like lsns).',
  options: {
    type: { type: 'string', short: 't', multiple: true },
    mounted: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  help: {
    type: { value: 'TYPE', help: 'only this kind: mnt, uts, ipc, pid, net, user, cgroup, time' },
    mounted: { help: 'also namespaces only a bind mount holds (ip netns add)' },
    json: { help: 'print JSON' },
  },
};

export async function command(argv: string[]): Promise<number> {
  const p = parse<{ type?: string[]; mounted?: boolean; json?: boolean }>(spec, argv);
  if (!p) return printUsage(spec);
  expectPositionals(spec, p, []);
  const { list, NAMESPACE_TYPES } = await import('@nsk/ns');
  for (const t of p.values.type ?? []) if (!(NAMESPACE_TYPES as readonly string[]).includes(t)) usageFail(spec, `unknown namespace kind ${t} (one of ${NAMESPACE_TYPES.join(', ')})`);
  const entries = list({
    ...(p.values.type ? { types: p.values.type as (typeof NAMESPACE_TYPES)[number][] } : {}),
    mounted: p.values.mounted ?? false,
  });
  if (p.values.json) {
    process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    return 0;
  }
  const rows = entries.map((e) => [
    String(e.inode), e.type, String(e.nprocs), e.pid === null ? '' : String(e.pid), e.user ?? '',
    e.command ?? (e.mounts.length ? `(bound at ${e.mounts.join(', ')})` : ''),
  ]);
  process.stdout.write(`${table(['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'COMMAND'], rows)}\n`);
  return 0;
}
