#!/usr/bin/env node
// The nsk command line. Each command is its own module, imported only when
// asked for, so `nsk ps` never loads the container machinery and `nsk run`
// never loads the image registry client.
import { useCompileCache } from '@nsk/syscall/compile-cache';

// V8's compiled code for our modules, kept on disk between runs. Must run
// before the first dynamic import below.
useCompileCache();

export interface CommandModule {
  /** Runs the command on the arguments after its name; resolves with nsk's exit status. */
  command(argv: string[]): Promise<number>;
}

interface Entry {
  summary: string;
  load(): Promise<CommandModule>;
}

const COMMANDS: Record<string, Entry> = {
  run: { summary: 'Run a command in a new container', load: () => import('./commands/run.ts') },
  ps: { summary: 'List containers', load: () => import('./commands/ps.ts') },
  logs: { summary: 'Print a detached container’s output', load: () => import('./commands/logs.ts') },
  exec: { summary: 'Run a command in a running container', load: () => import('./commands/exec.ts') },
  stop: { summary: 'Stop a container: SIGTERM, then SIGKILL after a grace period', load: () => import('./commands/stop.ts') },
  kill: { summary: 'Send a signal to a container', load: () => import('./commands/kill.ts') },
  rm: { summary: 'Remove containers', load: () => import('./commands/rm.ts') },
  inspect: { summary: 'Print what nsk knows of containers, as JSON', load: () => import('./commands/inspect.ts') },
  images: { summary: 'List images', load: () => import('./commands/images.ts') },
  import: { summary: 'Import an image from a docker export/save tar or an OCI layout', load: () => import('./commands/import.ts') },
  pull: { summary: 'Pull an image from a registry', load: () => import('./commands/pull.ts') },
  rmi: { summary: 'Remove images', load: () => import('./commands/rmi.ts') },
  ns: { summary: 'List the host’s namespaces (as lsns)', load: () => import('./commands/ns.ts') },
  doctor: { summary: 'Check which kernel features this host offers', load: () => import('./commands/doctor.ts') },
};

function help(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: nsk COMMAND [OPTIONS] [ARG...]',
    '',
    'Containers built from the Linux kernel’s own features.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, e]) => `  ${name.padEnd(w)}  ${e.summary}`),
    '',
    'Run \'nsk COMMAND --help\' for a command’s options.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    const { readFileSync } = await import('node:fs');
    process.stdout.write(`nsk ${(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version}\n`);
    return 0;
  }
  // The detached supervisor of `nsk run -d`: this same program, started again.
  if (name === '__supervise') return (await import('./supervisor.ts')).supervise(rest);
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    const { UsageError } = await import('./errors.ts');
    throw new UsageError(`nsk: unknown command ${JSON.stringify(name)}\nSee 'nsk --help'.`);
  }
  return (await entry.load()).command(rest);
}

try {
  const code = await main(process.argv.slice(2));
  // Exit now rather than when the last handle closes: a finished container
  // may leave sockets or timers of the libraries open for a moment.
  process.exit(code);
} catch (err) {
  const { describe, exitCodeFor, UsageError } = await import('./errors.ts');
  const message = describe(err);
  if (message === null) throw err;
  // A usage error already names the command: "nsk run: unknown flag --x".
  process.stderr.write(err instanceof UsageError ? `${message}\n` : `nsk: ${message}\n`);
  process.exit(exitCodeFor(err));
}
