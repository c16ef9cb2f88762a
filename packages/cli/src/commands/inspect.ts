// nsk inspect: the records, as JSON (an array, as docker inspect prints).
import { parse, printUsage, usageFail, type CommandSpec } from '../args.ts';
import { NoSuchContainerError } from '../errors.ts';
import { freshRecord } from '../lifecycle.ts';
import type { StateRecord } from '../state.ts';

export const spec: CommandSpec = {
  name: 'inspect',
  synopsis: 'NAME [NAME...]',
  summary: 'Prints what nsk knows of each container as JSON: its state (pid, namespaces,\ncgroup, capabilities, seccomp, network), its supervisor and how it ended.',
  options: {},
  help: {},
};

export async function command(argv: string[]): Promise<number> {
  const p = parse(spec, argv);
  if (!p) return printUsage(spec);
  if (p.positionals.length === 0) usageFail(spec, 'missing NAME');
  const out: StateRecord[] = [];
  for (const name of p.positionals) {
    const r = await freshRecord(name);
    if (!r) throw new NoSuchContainerError(name);
    out.push(r);
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}
