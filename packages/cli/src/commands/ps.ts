// nsk ps: the containers in the state directory. A container whose
// supervisor died is found here and cleaned up (see lifecycle.ts).
import { expectPositionals, parse, printUsage, type CommandSpec } from '../args.ts';
import { freshRecord } from '../lifecycle.ts';
import { names, type StateRecord } from '../state.ts';
import { ago, showCommand, table } from '../table.ts';

export const spec: CommandSpec = {
  name: 'ps',
  synopsis: '[-a] [-q]',
  summary: 'Lists running containers (with -a, also those that ended).',
  options: {
    all: { type: 'boolean', short: 'a' },
    quiet: { type: 'boolean', short: 'q' },
  },
  help: {
    all: { help: 'also containers that exited or died' },
    quiet: { help: 'print names only' },
  },
};

export function statusText(r: StateRecord, now = Date.now()): string {
  switch (r.status) {
    case 'created': return 'Created';
    case 'running': return `Up ${ago(r.startedAt, now)}`;
    case 'exited': return `Exited (${r.exit?.status ?? '?'}) ${ago(r.finishedAt ?? r.startedAt, now)} ago`;
    case 'dead': return 'Dead';
  }
}

export async function command(argv: string[]): Promise<number> {
  const p = parse<{ all?: boolean; quiet?: boolean }>(spec, argv);
  if (!p) return printUsage(spec);
  expectPositionals(spec, p, []);
  const records: StateRecord[] = [];
  for (const name of names()) {
    const r = await freshRecord(name);
    if (!r) continue;
    if (!p.values.all && r.status !== 'running' && r.status !== 'created') continue;
    records.push(r);
  }
  if (p.values.quiet) {
    if (records.length) process.stdout.write(`${records.map((r) => r.name).join('\n')}\n`);
    return 0;
  }
  const now = Date.now();
  const rows = records.map((r) => r.status === 'created'
    ? [r.name, '', '', ago(r.createdAt, now), statusText(r, now), '', '']
    : [
      r.name,
      r.image ?? r.rootfs,
      showCommand(r.command),
      `${ago(r.createdAt, now)} ago`,
      statusText(r, now),
      r.network?.ports.join(', ') ?? '',
      r.status === 'running' ? String(r.pid) : '',
    ]);
  process.stdout.write(`${table(['NAME', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'PID'], rows)}\n`);
  return 0;
}
