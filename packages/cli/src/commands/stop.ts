// nsk stop: SIGTERM, then SIGKILL once the grace period is over (docker's
// default 10 s). pid_namespaces(7): a container's init gets no signal it has
// no handler for from its own namespace, but one sent from outside does
// arrive — SIGTERM ends it only if it asked to catch it; SIGKILL always.
import { parse, printUsage, usageFail, type CommandSpec } from '../args.ts';
import { NoSuchContainerError } from '../errors.ts';
import { containerAlive, freshRecord, until, waitFinished } from '../lifecycle.ts';
import type { ContainerRecord } from '../state.ts';

export const spec: CommandSpec = {
  name: 'stop',
  synopsis: '[-t SECONDS] NAME [NAME...]',
  summary: 'Stops running containers: SIGTERM to each one’s init, then SIGKILL after\nthe grace period. Prints each name once it has ended and been cleaned up.',
  options: { time: { type: 'string', short: 't' } },
  help: { time: { value: 'SECONDS', help: 'the grace period before SIGKILL (default 10)' } },
};

/** Signals the container's init if it is still the process we started. */
export function signal(rec: ContainerRecord, sig: NodeJS.Signals): boolean {
  if (!containerAlive(rec)) return false;
  try {
    process.kill(rec.pid, sig);
    return true;
  } catch {
    return false; // ended meanwhile
  }
}

/** SIGTERM, wait up to `graceMs`, SIGKILL; then wait until the supervisor recorded the end. */
export async function stopContainer(rec: ContainerRecord, graceMs: number): Promise<void> {
  if (signal(rec, 'SIGTERM') && !(await until(() => !containerAlive(rec), graceMs))) {
    signal(rec, 'SIGKILL');
    await until(() => !containerAlive(rec), 5000);
  }
  await waitFinished(rec.name, 10_000);
}

export async function command(argv: string[]): Promise<number> {
  const p = parse<{ time?: string }>(spec, argv);
  if (!p) return printUsage(spec);
  if (p.positionals.length === 0) usageFail(spec, 'missing NAME');
  const t = p.values.time ?? '10';
  if (!/^\d+(\.\d+)?$/.test(t)) usageFail(spec, `-t ${t} is not a number of seconds`);
  const records = await Promise.all(p.positionals.map(async (name) => {
    const r = await freshRecord(name);
    if (!r) throw new NoSuchContainerError(name);
    return r;
  }));
  await Promise.all(records.map(async (r) => {
    if (r.status === 'running') await stopContainer(r, Number(t) * 1000);
    process.stdout.write(`${r.name}\n`);
  }));
  return 0;
}
