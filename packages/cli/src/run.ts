// nsk run: a command in a container with its own root, hostname, pids, IPC,
// network and cgroup view. The composition here is deliberately plain; it
// moves to @nsk/container as the feature packages arrive.
import { Plan, explainSpawn, spawn, type SpawnOptions } from '@nsk/clone';
import { rootfs } from '@nsk/mount';
import { busyboxRootfs } from '@nsk/rootfs';
import { ValidationError } from '@nsk/syscall';
import { constants as osConstants } from 'node:os';

export interface RunOptions {
  command: string[];
  rootfs?: string;
  hostname?: string;
  explain?: boolean;
  readonly?: boolean;
  env?: string[];
}

/** The default root: the host's busybox-static, built once. */
export const DEFAULT_ROOTFS = '/var/lib/nsk/rootfs/busybox';

const DEFAULT_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'TERM=xterm'];

export function runOptionsToSpawn(o: RunOptions): SpawnOptions {
  if (o.command.length === 0) throw new ValidationError('command', 'give a command to run: nsk run -- /bin/sh');
  const hostname = o.hostname ?? 'nsk';
  if (new TextEncoder().encode(hostname).length > 64) throw new ValidationError('hostname', 'longer than 64 bytes (HOST_NAME_MAX)');
  const root = o.rootfs ?? busyboxRootfs(DEFAULT_ROOTFS);
  const plan = new Plan();
  plan.sethostname(hostname);
  const [program, ...args] = o.command as [string, ...string[]];
  // No PATH search in the child: a bare name is looked up in the usual
  // directories of the rootfs, from the parent.
  const path = program.includes('/') ? program : `/bin/${program}`;
  return {
    path,
    argv: [program, ...args],
    env: [...DEFAULT_ENV, ...(o.env ?? [])],
    namespaces: ['uts', 'ipc', 'pid', 'net', 'cgroup'],
    features: [rootfs({ path: root, readonly: o.readonly ?? true })],
    plan,
  };
}

/** Runs the container; resolves with the exit status a shell would report. */
export async function run(o: RunOptions): Promise<number> {
  const options = runOptionsToSpawn(o);
  if (o.explain) {
    process.stdout.write(`${explainSpawn(options)}\n`);
    return 0;
  }
  const child = await spawn(options);
  // Signals to nsk reach the container.
  const forward = (sig: NodeJS.Signals) => child.kill(osConstants.signals[sig]);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  for (const s of signals) process.on(s, forward);
  const status = await child.exited;
  for (const s of signals) process.off(s, forward);
  return status.status;
}
