// nsk rm: removes containers' records and logs; -f stops running ones
// first (SIGKILL). A container whose supervisor died is cleaned here too.
import { NskError } from '@nsk/syscall';
import { parse, printUsage, usageFail, type CommandSpec } from '../args.ts';
import { NoSuchContainerError } from '../errors.ts';
import { cleanDead, freshRecord, until, waitFinished } from '../lifecycle.ts';
import { alive, containerDir, readRecord, removeDir } from '../state.ts';
import { existsSync } from 'node:fs';
import { signal } from './stop.ts';

export const spec: CommandSpec = {
  name: 'rm',
  synopsis: '[-f] NAME [NAME...]',
  summary: 'Removes containers that have ended (with -f, kills running ones first).',
  options: { force: { type: 'boolean', short: 'f' } },
  help: { force: { help: 'kill a running container (SIGKILL), then remove it' } },
};

async function remove(name: string, force: boolean): Promise<void> {
  const existed = existsSync(containerDir(name));
  let r = await freshRecord(name);
  if (!r) {
    if (existed) {
      // Dead and --rm (cleaned just now), or a directory with no record.
      removeDir(name);
      return;
    }
    throw new NoSuchContainerError(name);
  }
  if (r.status === 'created' || r.status === 'running') {
    if (!force) throw new NskError(`container ${name} is ${r.status === 'created' ? 'starting' : 'running'}: stop it first (nsk stop ${name}) or use nsk rm -f`, 'ERR_NSK_RUNNING');
    // Still starting: wait until it runs (or gave up) to have a pid to kill.
    await until(() => { const x = readRecord(name); return !x || x.status !== 'created' || !alive(x.supervisor); }, 10_000);
    r = readRecord(name);
    if (r?.status === 'running') {
      signal(r, 'SIGKILL');
      const ended = await waitFinished(name, 10_000);
      // A supervisor that neither finished nor died in 10 s: clean as if dead.
      if (ended && (ended.status === 'running' || ended.status === 'created')) await cleanDead(ended);
    }
  }
  removeDir(name);
}

export async function command(argv: string[]): Promise<number> {
  const p = parse<{ force?: boolean }>(spec, argv);
  if (!p) return printUsage(spec);
  if (p.positionals.length === 0) usageFail(spec, 'missing NAME');
  let failed = 0;
  for (const name of p.positionals) {
    try {
      await remove(name, p.values.force ?? false);
      process.stdout.write(`${name}\n`);
    } catch (err) {
      if (!(err instanceof NskError)) throw err;
      process.stderr.write(`nsk: ${err.message}\n`);
      failed++;
    }
  }
  return failed ? 125 : 0;
}
