// nsk logs: what a detached container wrote (stdout and stderr, in the
// order written: both go to one file opened O_APPEND).
import { closeSync, openSync, readSync } from 'node:fs';
import { NskError } from '@nsk/syscall';
import { expectPositionals, parse, printUsage, type CommandSpec } from '../args.ts';
import { NoSuchContainerError } from '../errors.ts';
import { freshRecord, sleep, supervisorDied } from '../lifecycle.ts';
import { readRecord } from '../state.ts';

export const spec: CommandSpec = {
  name: 'logs',
  synopsis: '[-f] NAME',
  summary: 'Prints the output of a container started with nsk run -d.',
  options: { follow: { type: 'boolean', short: 'f' } },
  help: { follow: { help: 'keep printing what it writes until it ends' } },
};

export async function command(argv: string[]): Promise<number> {
  const p = parse<{ follow?: boolean }>(spec, argv);
  if (!p) return printUsage(spec);
  expectPositionals(spec, p, ['NAME']);
  const name = p.positionals[0]!;
  const r = await freshRecord(name);
  if (!r) throw new NoSuchContainerError(name);
  if (!r.log) throw new NskError(`container ${name} runs in the foreground: its output goes to the terminal of its nsk run, not to a log`, 'ERR_NSK_NO_LOG');
  // Open once: with --rm the file may be unlinked while we follow it.
  let fd: number;
  try {
    fd = openSync(r.log, 'r');
  } catch {
    throw new NoSuchContainerError(name);
  }
  const buf = Buffer.allocUnsafe(64 * 1024);
  const drain = () => {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) process.stdout.write(buf.subarray(0, n));
  };
  try {
    drain();
    if (!p.values.follow) return 0;
    for (;;) {
      const now = readRecord(name);
      const ended = !now || (now.status !== 'running' && now.status !== 'created') || supervisorDied(now);
      drain();
      if (ended) return 0;
      await sleep(50);
    }
  } finally {
    closeSync(fd);
  }
}
