// nsk kill: one signal to each container's init (default SIGKILL, as docker).
import { parse, printUsage, usageFail, type CommandSpec } from '../args.ts';
import { NoSuchContainerError } from '../errors.ts';
import { freshRecord } from '../lifecycle.ts';
import { signalName } from '../signals.ts';
import { NskError } from '@nsk/syscall';
import { signal } from './stop.ts';

export const spec: CommandSpec = {
  name: 'kill',
  synopsis: '[-s SIGNAL] NAME [NAME...]',
  summary: 'Sends SIGNAL to each container’s init process (from outside its pid\nnamespace, so even an init without a handler gets SIGKILL).',
  options: { signal: { type: 'string', short: 's' } },
  help: { signal: { value: 'SIGNAL', help: 'KILL, TERM, SIGUSR1, 15 … (default KILL)' } },
};

export async function command(argv: string[]): Promise<number> {
  const p = parse<{ signal?: string }>(spec, argv);
  if (!p) return printUsage(spec);
  if (p.positionals.length === 0) usageFail(spec, 'missing NAME');
  const sig = signalName(p.values.signal ?? 'KILL');
  if (!sig) usageFail(spec, `unknown signal ${p.values.signal}`);
  for (const name of p.positionals) {
    const r = await freshRecord(name);
    if (!r) throw new NoSuchContainerError(name);
    if (r.status !== 'running' || !signal(r, sig)) throw new NskError(`container ${name} is not running`, 'ERR_NSK_NOT_RUNNING');
    process.stdout.write(`${name}\n`);
  }
  return 0;
}
