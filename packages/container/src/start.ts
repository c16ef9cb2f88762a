// start() and run(): a prepared container, spawned; its Container handle.
//
// The command is PID 1 of its pid namespace, as with `docker run` without
// --init: pid_namespaces(7) — the kernel delivers to PID 1 only the signals
// it has a handler for (from inside; from outside, also SIGKILL and
// SIGSTOP), so a program that installs no SIGTERM handler ignores
// `kill(SIGTERM)`. Stop such a container with SIGKILL (nsk stop escalates
// after a grace period). When PID 1 ends, the kernel kills every other
// process of the namespace.
import { closeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { spawn, type Child, type ExitStatus } from '@nsk/clone';
import { composeSpawn, type RootfsPaths } from './compose.ts';
import { openTerminal, setTerminalSize, type Terminal } from './pty.ts';
import { Prepared, prepare } from './prepare.ts';
import { namespaceInodes, netnsInode, showPort, type ContainerState } from './state.ts';
import type { ContainerSpec } from './spec.ts';
import type { PreparedImageRootfs } from './image.ts';
import type { Identity } from './capabilities.ts';
import type { NetworkFeature } from '@nsk/net';
import { net } from './lazy.ts';

export interface Container {
  readonly name: string;
  /** PID 1 of the container, as this process sees it. */
  readonly pid: number;
  /** With `tty`: the pty's master fd. The caller reads and writes it, and closes it. */
  readonly terminal?: number;
  /** Resolves once the container has ended and everything made for it is removed. */
  readonly exited: Promise<ExitStatus>;
  /** kill(2) of PID 1; false once it has ended. */
  kill(signal?: number | NodeJS.Signals): boolean;
  state(): ContainerState;
}

interface Running {
  prepared: Prepared;
  child: Child;
  rootfs: string;
  /** An image container's own directory in the store, when its overlay directories share one named for it. */
  imageDir: string | null;
  /** Bridge: the inode of the network namespace holding the bridge. */
  hostNetns: number | undefined;
  identity: Identity;
  env: string[];
  network: NetworkFeature | null;
  cgroup: string | null;
  terminal: Terminal | null;
  exited: Promise<ExitStatus>;
  /** Read the namespace inodes at once (start); run() never shows a state. */
  readNamespaces: boolean;
}

class RunningContainer implements Container {
  readonly name: string;
  readonly pid: number;
  readonly terminal?: number;
  readonly exited: Promise<ExitStatus>;
  readonly #r: Running;
  readonly #startedAt = new Date().toISOString();
  #namespaces: Record<string, number> | undefined;

  constructor(r: Running) {
    this.#r = r;
    this.name = r.prepared.name;
    this.pid = r.child.pid;
    if (r.terminal) this.terminal = r.terminal.master;
    this.exited = r.exited;
    // The inodes identify the container to exec() from any process; read
    // them now, while PID 1 surely lives (a handful of readlink(2)s).
    if (r.readNamespaces) this.#namespaces = namespaceInodes(this.pid);
  }

  kill(signal: number | NodeJS.Signals = 'SIGTERM'): boolean {
    return this.#r.child.kill(signal);
  }

  state(): ContainerState {
    const r = this.#r;
    const c = r.prepared.checked;
    const d = r.prepared.decided;
    const att = r.network?.attachment ?? null;
    return {
      name: this.name,
      pid: this.pid,
      startedAt: this.#startedAt,
      command: [...d.argv],
      rootfs: r.rootfs,
      ...(c.image !== undefined ? { image: c.image } : {}),
      ...(r.imageDir !== null ? { imageDir: r.imageDir } : {}),
      namespaces: { ...(this.#namespaces ??= namespaceInodes(this.pid)) },
      ...(r.cgroup ? { cgroup: r.cgroup } : {}),
      capabilities: [...d.capabilities.keep],
      seccomp: d.seccomp.label,
      user: { uid: r.identity.uid, gid: r.identity.gid },
      env: [...r.env],
      cwd: d.cwd,
      ...(c.network !== 'host' ? {
        network: {
          ...(att ? { address: att.address } : {}),
          ports: att ? att.ports.map((p) => showPort(p.mapping.hostIp, p.hostPort, p.mapping.containerPort, p.mapping.protocol)) : [],
          // Where cleanupState() finds its lease from another process.
          ...(c.network === 'bridge' ? {
            stateDir: c.networkHost.stateDir ?? net().DEFAULT_STATE_DIR,
            bridge: c.networkHost.bridge ?? net().DEFAULT_BRIDGE,
            ...(r.hostNetns !== undefined ? { hostNetns: r.hostNetns } : {}),
          } : {}),
        },
      } : {}),
    };
  }
}

/**
 * Starts the container: resolves once its command runs (execve(2)
 * succeeded), or rejects with the error of the step that failed, after
 * removing whatever was made for it.
 */
export function start(spec: ContainerSpec | Prepared): Promise<Container> {
  return startContainer(spec, true);
}

async function startContainer(spec: ContainerSpec | Prepared, readNamespaces: boolean): Promise<Container> {
  const { prepared, single } = (spec instanceof Prepared ? spec : prepare(spec)).take();
  const c = prepared.checked;
  let image: PreparedImageRootfs | null = null;
  let terminal: Terminal | null = null;
  const release = () => {
    if (terminal) closeSync(terminal.master);
    terminal = null;
    const errors: unknown[] = [];
    try {
      image?.cleanup();
    } catch (err) {
      errors.push(err);
    }
    image = null;
    return errors;
  };
  try {
    let paths: RootfsPaths;
    if (c.image !== undefined) {
      image = c.store!.prepareRootfs(c.image, c.name);
      paths = { path: image.target, overlay: { lower: image.lower, upper: image.upper, work: image.work }, lower: image.lower };
    } else {
      paths = { path: c.rootfs!, overlay: undefined, lower: [c.rootfs!] };
    }
    if (c.tty) terminal = openTerminal();
    // tty_ioctl(4): the size is the pty's before the child exists, so the
    // command's first TIOCGWINSZ already sees it (no SIGWINCH race).
    if (terminal && c.ttySize) setTerminalSize(terminal.master, c.ttySize.rows, c.ttySize.columns);
    single.groups?.create();
    const { options, identity, env } = composeSpawn(prepared, single, paths, terminal);
    const child = await spawn(options);
    const made = image as PreparedImageRootfs | null;
    const exited = child.exited.then((status) => {
      let errors: unknown[] = [];
      try {
        made?.cleanup();
      } catch (err) {
        errors = [err];
      }
      const all = [...(status.cleanupErrors ?? []), ...errors];
      return all.length ? { ...status, cleanupErrors: all } : status;
    });
    image = null; // now the exit's to remove
    const cgroup = single.groups?.path ?? single.cgroup?.path ?? null;
    // The store's container directory (@nsk/rootfs: containers/<name>/{upper,work,merged}).
    const own = made && dirname(made.upper) === dirname(made.target) && dirname(made.work) === dirname(made.target) && basename(dirname(made.target)) === c.name ? dirname(made.target) : null;
    const hostNetns = c.network === 'bridge' ? netnsInode(c.networkHost.netns) : undefined;
    return new RunningContainer({ prepared, child, rootfs: paths.path, imageDir: own, hostNetns, identity, env, network: single.network, cgroup, terminal, exited, readNamespaces });
  } catch (err) {
    // spawn() ran the features' cleanups if it got past clone(2); removing
    // the groups again is a no-op then, and needed when it did not.
    await single.groups?.destroy().catch(() => {});
    release();
    throw err;
  }
}

/**
 * start() and wait: resolves with the exit status (`status` is the code, or
 * 128 + the signal). With `tty`, the terminal's master is closed at the end.
 */
export async function run(spec: ContainerSpec | Prepared): Promise<ExitStatus> {
  const container = await startContainer(spec, false);
  try {
    return await container.exited;
  } finally {
    if (container.terminal !== undefined) closeSync(container.terminal);
  }
}
