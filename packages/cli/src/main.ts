#!/usr/bin/env node
// The nsk command line.
import { parseArgs } from 'node:util';
import { NskError } from '@nsk/syscall';
import { run } from './run.ts';

const USAGE = `usage: nsk run [--rootfs DIR] [--hostname NAME] [--rw] [-e K=V]... [--explain] -- COMMAND [ARG...]

Runs COMMAND in a container: new mount, uts, ipc, pid, net and cgroup
namespaces, with DIR as its root (default: a root made from the host's
busybox-static, read-only with a tmpfs on /tmp).`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== 'run') {
    process.stderr.write(`${USAGE}\n`);
    return cmd === '--help' || cmd === '-h' ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      rootfs: { type: 'string' },
      hostname: { type: 'string' },
      rw: { type: 'boolean' },
      env: { type: 'string', short: 'e', multiple: true },
      explain: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  return run({
    command: positionals,
    ...(values.rootfs !== undefined ? { rootfs: values.rootfs } : {}),
    ...(values.hostname !== undefined ? { hostname: values.hostname } : {}),
    ...(values.env !== undefined ? { env: values.env } : {}),
    readonly: !values.rw,
    explain: values.explain ?? false,
  });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof NskError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`nsk: ${err.message}\n`);
    process.exitCode = 125;
  } else {
    throw err;
  }
}
