// Real OCI clients driving nsk-runtime: podman (through conmon) and
// containerd (through containerd-shim-runc-v2, `ctr run --runc-binary`).
// Each gets a lab in a temp dir (its storage, state, sockets, config) so
// the machine's own configuration does not leak in, and the image is one
// the test builds from testkit's busybox rootfs: no registry, no network.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountPoints, testRootfs } from '@nsk/testkit';
import { RUNTIME } from './bundle.ts';

export interface Out { code: number | null; stdout: string; stderr: string }

/** `cmd args…` to completion, never throwing. */
export function call(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeout = 60_000): Out {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * `cmd args…` with a pseudoterminal of `rows`×`cols` as its stdin, stdout
 * and stderr, through util-linux's script(1) (it makes the pty and relays
 * it); the exit code is the command's (-e).
 */
export function callTty(cmd: string, args: string[], size: { rows: number; cols: number }, env: NodeJS.ProcessEnv = process.env): Out {
  const line = `stty rows ${size.rows} cols ${size.cols}; exec ${[cmd, ...args].map(quote).join(' ')}`;
  return call('script', ['-qec', line, '/dev/null'], env);
}

/**
 * The lines a terminal showed: without carriage returns, NULs (a shim may
 * write one first; script(1) echoes it as ^@) and escape sequences.
 */
export function terminalLines(out: string): string[] {
  return out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r|\0|\^@/g, '').split('\n').map((l) => l.trim());
}

/** The busybox rootfs as a plain tar (podman import), and as a `docker save` archive (ctr images import). */
export function images(dir: string, tag: string): { rootfsTar: string; dockerArchive: string } {
  const rootfsTar = join(dir, 'rootfs.tar');
  execFileSync('tar', ['-C', testRootfs(), '--numeric-owner', '-cf', rootfsTar, '.']);
  const layer = readFileSync(rootfsTar);
  const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const archive = join(dir, 'docker-archive');
  mkdirSync(archive);
  writeFileSync(join(archive, 'layer.tar'), layer);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const config = JSON.stringify({ architecture: arch, os: 'linux', config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [diffId] } });
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  writeFileSync(join(archive, configName), config);
  writeFileSync(join(archive, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: ['layer.tar'] }]));
  const dockerArchive = join(dir, 'image.tar');
  execFileSync('tar', ['-C', archive, '-cf', dockerArchive, '.']);
  return { rootfsTar, dockerArchive };
}

// Every cgroup dir three levels down, and the removal of new ones whose path
// holds a mark: the benches' own check that no runtime left a cgroup.
export { cgroupDirs, removeNewCgroups } from '../../container/bench/harness.ts';

/** Mount points under `dir` in this mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  return mountPoints().filter((m) => m === dir || m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
}

/** Paths a client writes outside its lab whatever it is told; removed afterwards when they were not there before. */
export class Outside {
  private readonly absent: string[];
  constructor(paths: string[]) { this.absent = paths.filter((p) => !existsSync(p)); }
  remove(): void { for (const p of this.absent) rmSync(p, { recursive: true, force: true }); }
}

/** podman with everything (storage, run and tmp dirs, networks, events) in a lab of its own, and nsk-runtime as its runtime. */
export class PodmanLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'nsk-podman-'));
  readonly env: NodeJS.ProcessEnv;
  // containers/image keeps a blob-info cache in /var/lib/containers for root,
  // podman a network run dir in /run/containers and its locks in
  // /dev/shm/libpod_lock, whatever the config says.
  private readonly outside = new Outside(['/var/lib/containers', '/run/containers', '/dev/shm/libpod_lock']);

  constructor() {
    const d = this.dir;
    for (const sub of ['storage', 'run', 'tmp', 'networks']) mkdirSync(join(d, sub));
    writeFileSync(join(d, 'containers.conf'), [
      '[containers]',
      // podman asks root's containers for 1048576 open files; this host's
      // hard limit is lower and setrlimit(2) may not raise it (runc and crun
      // fail there the same way).
      'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
      '[network]',
      `network_config_dir = "${d}/networks"`,
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${d}/tmp"`,
      'runtime = "nsk"',
      '[engine.runtimes]',
      `nsk = ["${RUNTIME}"]`,
      '',
    ].join('\n'));
    writeFileSync(join(d, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${d}/storage"\nrunroot = "${d}/run"\n`);
    writeFileSync(join(d, 'registries.conf'), '');
    this.env = { ...process.env, CONTAINERS_CONF: join(d, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(d, 'storage.conf'), CONTAINERS_REGISTRIES_CONF: join(d, 'registries.conf') };
  }

  podman(...args: string[]): Out { return call('podman', args, this.env); }
  podmanTty(size: { rows: number; cols: number }, ...args: string[]): Out { return callTty('podman', args, size, this.env); }

  /** Every container and image removed, storage unmounted, the lab deleted. */
  close(): void {
    this.podman('rm', '--all', '--force', '--time', '0');
    this.podman('rmi', '--all', '--force');
    for (const m of mountsUnder(this.dir)) call('umount', ['-l', m]);
    rmSync(this.dir, { recursive: true, force: true });
    this.outside.remove();
  }
}

/** A containerd of our own on a socket in its lab (root, state, opt, fifo and runc-root dirs there too). */
export class ContainerdLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'nsk-containerd-'));
  readonly socket = join(this.dir, 'containerd.sock');
  readonly runcRoot = join(this.dir, 'runc');
  private daemon: ChildProcess | null = null;
  // containerd-shim 1.6 puts its sockets in /run/containerd/s whatever the config says.
  private readonly outside = new Outside(['/run/containerd']);

  async start(): Promise<void> {
    const d = this.dir;
    writeFileSync(join(d, 'config.toml'), [
      'version = 2',
      `root = "${d}/root"`,
      `state = "${d}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]', `  address = "${this.socket}"`,
      '[ttrpc]', `  address = "${this.socket}.ttrpc"`,
      '[debug]', `  address = "${d}/debug.sock"`,
      '[metrics]', '  address = ""',
      '[plugins."io.containerd.internal.v1.opt"]', `  path = "${d}/opt"`,
      '',
    ].join('\n'));
    this.daemon = spawn('containerd', ['--config', join(d, 'config.toml')], { stdio: ['ignore', 'ignore', 'ignore'] });
    for (let i = 0; i < 300; i++) {
      if (existsSync(this.socket) && call('ctr', ['-a', this.socket, 'version']).code === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('containerd did not start');
  }

  ctr(...args: string[]): Out { return call('ctr', ['-a', this.socket, '-n', 'nsk-e2e', ...args]); }
  ctrTty(size: { rows: number; cols: number }, ...args: string[]): Out { return callTty('ctr', ['-a', this.socket, '-n', 'nsk-e2e', ...args], size); }
  /** `ctr run` options that send the shim to nsk-runtime and keep its files in the lab. */
  runOptions(): string[] { return ['--runc-binary', RUNTIME, '--runc-root', this.runcRoot, '--fifo-dir', join(this.dir, 'fifo')]; }

  async close(): Promise<void> {
    for (const id of this.ctr('containers', 'ls', '-q').stdout.split('\n').filter(Boolean)) {
      this.ctr('task', 'kill', '-s', 'SIGKILL', id);
      this.ctr('task', 'rm', '-f', id);
      this.ctr('containers', 'rm', id);
    }
    for (const img of this.ctr('images', 'ls', '-q').stdout.split('\n').filter(Boolean)) this.ctr('images', 'rm', img);
    if (this.daemon) {
      const exited = new Promise((r) => this.daemon!.once('exit', r));
      this.daemon.kill('SIGTERM');
      await exited;
    }
    for (const m of mountsUnder(this.dir)) call('umount', ['-l', m]);
    rmSync(this.dir, { recursive: true, force: true });
    this.outside.remove();
  }
}
