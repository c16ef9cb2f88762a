// nsk exec: another process in a running container — every namespace, its
// cgroup, the same capabilities and seccomp filter (@nsk/container exec()).
import { closeSync, openSync } from 'node:fs';
import { NskError } from '@nsk/syscall';
import { parse, printUsage, usageFail, type CommandSpec } from '../args.ts';
import { NoSuchContainerError, asFlagError } from '../errors.ts';
import { freshRecord, sleep } from '../lifecycle.ts';
import { checkUser, parseEnv } from '../run-flags.ts';
import { proxySignals } from '../signals.ts';
import { attachTerminal, ttyOption, type Attached } from '../tty.ts';

export const spec: CommandSpec = {
  name: 'exec',
  synopsis: '[OPTIONS] NAME [--] COMMAND [ARG...]',
  summary: 'Runs COMMAND inside a running container: its namespaces, cgroup,\ncapabilities and seccomp filter. Exits with COMMAND’s status.',
  stopAtPositional: true,
  options: {
    interactive: { type: 'boolean', short: 'i' },
    tty: { type: 'boolean', short: 't' },
    env: { type: 'string', short: 'e', multiple: true },
    workdir: { type: 'string', short: 'w' },
    user: { type: 'string', short: 'u' },
  },
  help: {
    interactive: { help: 'pass nsk’s stdin to the command (else it reads /dev/null)' },
    tty: { help: 'give the command a terminal (a new pty), joined to nsk’s' },
    env: { value: 'K=V', help: 'set an environment variable' },
    workdir: { value: 'DIR', help: 'the working directory (default: the container’s)' },
    user: { value: 'UID[:GID]', help: 'the user to run as (default: the container’s)' },
  },
};

interface Values { interactive?: boolean; tty?: boolean; env?: string[]; workdir?: string; user?: string }

export async function command(argv: string[]): Promise<number> {
  try {
    return await execCommand(argv);
  } catch (err) {
    throw asFlagError('exec', err);
  }
}

async function execCommand(argv: string[]): Promise<number> {
  const p = parse<Values>(spec, argv);
  if (!p) return printUsage(spec);
  const [name, ...before] = p.positionals;
  if (name === undefined) usageFail(spec, 'missing NAME');
  const cmd = [...before, ...(p.afterDashes ?? [])];
  if (cmd.length === 0) usageFail(spec, 'missing COMMAND');
  const v = p.values;
  const opts: { env?: string[]; cwd?: string; user?: string; tty?: boolean | { rows: number; columns: number }; stdio?: [number | null, number | null, number | null] } = {};
  if (v.env) opts.env = parseEnv(v.env);
  if (v.workdir !== undefined) {
    if (!v.workdir.startsWith('/')) usageFail(spec, `-w ${v.workdir} must be an absolute path in the container`);
    opts.cwd = v.workdir;
  }
  if (v.user !== undefined) opts.user = checkUser(v.user);
  // The pty has nsk's window size before the command runs.
  if (v.tty) opts.tty = ttyOption();

  const r = await freshRecord(name);
  if (!r) throw new NoSuchContainerError(name);
  if (r.status !== 'running') throw new NskError(`container ${name} is not running (${r.status})`, 'ERR_NSK_NOT_RUNNING');
  const signals = proxySignals(v.tty ? ['SIGWINCH'] : []);
  const { exec } = await import('@nsk/container');
  const stdin = v.interactive ? 0 : openSync('/dev/null', 'r');
  try {
    if (!v.tty) opts.stdio = [stdin, 1, 2];
    const proc = await exec(r, cmd, opts);
    let attached: Attached | undefined;
    try {
      if (proc.terminal !== undefined) attached = attachTerminal(proc.terminal, { stdin: v.interactive ?? false });
    } catch (err) {
      process.kill(proc.pid, 'SIGKILL');
      await proc.exited;
      if (proc.terminal !== undefined) closeSync(proc.terminal);
      throw err;
    }
    let ended = false;
    signals.to((s) => {
      if (ended) return; // reaped: its pid may be another process's now
      try { process.kill(proc.pid, s); } catch { /* ended */ }
    });
    const status = await proc.exited;
    ended = true;
    signals.stop();
    if (attached) {
      await Promise.race([attached.done, sleep(1000)]);
      attached.restore();
    }
    if (proc.terminal !== undefined) closeSync(proc.terminal);
    return status.status;
  } finally {
    signals.stop();
    if (stdin !== 0) closeSync(stdin);
  }
}
