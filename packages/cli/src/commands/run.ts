// nsk run: a command in a new container.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ContainerSpec } from '@nsk/container';
import { parse, printUsage, usageFail, type CommandSpec } from '../args.ts';
import { specFromFlags, type RunValues } from '../run-flags.ts';
import { randomBytes } from 'node:crypto';
import { checkName, networkStateDir } from '../state.ts';
import { asFlagError } from '../errors.ts';

export const spec: CommandSpec = {
  name: 'run',
  synopsis: '[OPTIONS] [IMAGE] [--] COMMAND [ARG...]',
  summary: [
    'Runs COMMAND in a new container: every namespace, its own cgroup, docker’s',
    'default capabilities and seccomp profile, no new privileges. The root is',
    'IMAGE (see nsk images), --rootfs DIR, or by default a root made from the',
    'host’s busybox-static (no download; read-only, with a tmpfs on /tmp).',
    'Without --, the first argument is the IMAGE unless it starts with "/" or',
    '--rootfs is given.',
  ].join('\n'),
  stopAtPositional: true,
  options: {
    rootfs: { type: 'string' },
    name: { type: 'string' },
    detach: { type: 'boolean', short: 'd' },
    rm: { type: 'boolean' },
    interactive: { type: 'boolean', short: 'i' },
    tty: { type: 'boolean', short: 't' },
    env: { type: 'string', short: 'e', multiple: true },
    workdir: { type: 'string', short: 'w' },
    user: { type: 'string', short: 'u' },
    volume: { type: 'string', short: 'v', multiple: true },
    hostname: { type: 'string' },
    net: { type: 'string' },
    publish: { type: 'string', short: 'p', multiple: true },
    memory: { type: 'string', short: 'm' },
    cpus: { type: 'string' },
    'pids-limit': { type: 'string' },
    'cap-add': { type: 'string', multiple: true },
    'cap-drop': { type: 'string', multiple: true },
    seccomp: { type: 'string' },
    rootless: { type: 'boolean' },
    'read-only': { type: 'boolean' },
    explain: { type: 'boolean' },
  },
  help: {
    rootfs: { value: 'DIR', help: 'the root filesystem: a directory (instead of an IMAGE)' },
    name: { value: 'NAME', help: 'the container’s name (default: 12 random hex digits)' },
    detach: { help: 'run in the background and print the name (see nsk ps, logs, stop)' },
    rm: { help: 'remove the container when it exits (a foreground one always is)' },
    interactive: { help: 'pass nsk’s stdin to the container (else it reads /dev/null)' },
    tty: { help: 'give the container a terminal (a new pty), joined to nsk’s' },
    env: { value: 'K=V', help: 'set an environment variable (K alone: its value here)' },
    workdir: { value: 'DIR', help: 'the working directory in the container' },
    user: { value: 'UID[:GID]', help: 'the user to run as (or a name from the root’s /etc/passwd)' },
    volume: { value: 'HOST:CTR[:ro]', help: 'bind a host path into the container' },
    hostname: { value: 'NAME', help: 'the container’s hostname' },
    net: { value: 'none|host|bridge', help: 'network (default: bridge as root, none rootless)' },
    publish: { value: 'HOST:CTR[/udp]', help: 'publish a container port on the host' },
    memory: { value: 'SIZE', help: 'memory limit: 64m, 1g …' },
    cpus: { value: 'N', help: 'CPU limit: 0.5 is half a CPU' },
    'pids-limit': { value: 'N', help: 'at most N processes' },
    'cap-add': { value: 'CAP', help: 'add a capability (NET_ADMIN, ALL …)' },
    'cap-drop': { value: 'CAP', help: 'drop a capability' },
    seccomp: { value: 'default|unconfined|FILE', help: 'the seccomp profile (FILE: OCI/docker JSON)' },
    rootless: { help: 'a user namespace mapping the caller: root inside, not outside' },
    'read-only': { help: 'mount the root filesystem read-only' },
    explain: { help: 'print every step and system call the container would make; create nothing' },
  },
};

/** The default root for this user: /var/lib/nsk/rootfs/busybox, or under XDG_DATA_HOME. */
export function defaultRootfsDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/nsk/rootfs/busybox';
  const data = process.env.XDG_DATA_HOME || join(homedir(), '.local/share');
  return join(data, 'nsk/rootfs/busybox');
}

export async function command(argv: string[]): Promise<number> {
  try {
    return await runCommand(argv);
  } catch (err) {
    throw asFlagError('run', err);
  }
}

async function runCommand(argv: string[]): Promise<number> {
  const p = parse<RunValues>(spec, argv);
  if (!p) return printUsage(spec);
  const v = p.values;
  // [IMAGE] [--] COMMAND…: see the summary above.
  let image: string | undefined;
  let cmd: string[];
  if (p.afterDashes !== null) {
    if (p.positionals.length > 1) usageFail(spec, `one IMAGE at most before --, got ${p.positionals.join(' ')}`);
    image = p.positionals[0];
    cmd = p.afterDashes;
  } else if (v.rootfs !== undefined || p.positionals[0]?.startsWith('/')) {
    cmd = p.positionals;
  } else {
    [image, ...cmd] = p.positionals;
  }
  if (image !== undefined && v.rootfs !== undefined) usageFail(spec, `give --rootfs DIR or an IMAGE, not both (got --rootfs ${v.rootfs} and ${image})`);
  if (v.name !== undefined) checkName(v.name);

  const cs: ContainerSpec = specFromFlags(v, cmd, image);
  // 12 hex digits, as docker's short ids (and @nsk/container's default).
  cs.name = v.name ?? randomBytes(6).toString('hex');
  // A bridge's leases and /etc files under NSK_STATE_DIR when it is set.
  const netDir = networkStateDir();
  const rootless = cs.rootless ?? process.getuid?.() !== 0;
  if (netDir !== undefined && (cs.network ?? (rootless ? 'none' : 'bridge')) === 'bridge') cs.networkHost = { stateDir: netDir };
  let storeRoot: string | undefined;
  if (image !== undefined) {
    const { imageStore } = await import('../image-store.ts');
    const store = await imageStore();
    cs.store = store;
    storeRoot = store.root;
  } else if (cs.rootfs === undefined) {
    const dir = defaultRootfsDir();
    // busyboxRootfs() reuses a root it built, which it marks with
    // .nsk-rootfs; @nsk/rootfs (its image and registry code, ~90 ms of
    // module loading) is only imported when there is none yet.
    cs.rootfs = existsSync(join(dir, '.nsk-rootfs')) ? dir : (await import('@nsk/rootfs')).busyboxRootfs(dir);
    // Every container shares this directory: none may change it. A tmpfs
    // on /tmp takes the writes.
    cs.readonlyRootfs = true;
  }

  if (v.explain) {
    const { prepare } = await import('@nsk/container');
    process.stdout.write(`${prepare(cs).explain()}\n`);
    return 0;
  }
  if (v.detach) {
    const { runDetached } = await import('../detach.ts');
    return runDetached(cs, { autoRemove: v.rm ?? false, ...(storeRoot ? { storeRoot } : {}) });
  }
  const { runForeground } = await import('../foreground.ts');
  return runForeground(cs, { interactive: v.interactive ?? false });
}
