// exec(): another program in a running container, as `docker exec` runs it —
// every namespace of the container joined (its PID 1 is 1 there too), its
// cgroup joined, and the same capabilities, no_new_privs and seccomp filter,
// its environment, working directory and user unless told otherwise.
//
// The order, for the same reasons as at start: the parent writes the child
// into the container's groups while it waits; the child joins the user
// namespace first (it owns the others), the mount namespace last (setns(2)
// resets root and cwd); Node's main thread joins the pid namespace around
// clone(2) (pid_namespaces(7): setns only moves future children). Then
// the bounding set, the user, capset, no_new_privs, the filter, execve.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { CLONE, NskError, O, ValidationError } from '@nsk/syscall';
import { spawn, type ExitStatus, type Feature, type Plan } from '@nsk/clone';
import type { NamespaceType } from '@nsk/ns';
import { ns } from './lazy.ts';
import { credentials, capabilityName, type Identity } from './capabilities.ts';
import { envValue, isRoot, mergeEnv } from './defaults.ts';
import { joinCgroup } from './join-cgroup.ts';
import { pathSearch, searchPath } from './path-search.ts';
import { checkTty, openTerminal, setTerminalSize, terminalFeatures, type Terminal } from './pty.ts';
import { chooseSeccomp, seccompFeature } from './seccomp.ts';
import { namespaceInodes, type ContainerState } from './state.ts';
import { checkUserSpec, resolveUser } from './user.ts';
import { kindInRoot } from './read-in-root.ts';

export interface ExecOptions {
  /** `K=V`, merged over the container's environment. */
  env?: string[];
  /** Default: the container's working directory. */
  cwd?: string;
  /** "uid[:gid]" or a name in the container's /etc/passwd. Default: the container's user. */
  user?: string;
  /** A new pty; `terminal` is its master fd (the caller closes it). `{ rows, columns }`: also its window size, set before the program runs. */
  tty?: boolean | { rows: number; columns: number };
  /** Default [0, 1, 2]; ignored with `tty`. */
  stdio?: [number | null, number | null, number | null];
}

export interface ExecProcess {
  /** Its pid, as this process sees it. */
  pid: number;
  terminal?: number;
  exited: Promise<ExitStatus>;
}

function checkState(s: ContainerState): void {
  if (typeof s !== 'object' || s === null) throw new ValidationError('state', 'give the ContainerState of a running container');
  if (!Number.isInteger(s.pid) || s.pid < 1) throw new ValidationError('state.pid', `not a pid: ${String(s.pid)}`);
  if (typeof s.namespaces !== 'object' || s.namespaces === null || !Object.values(s.namespaces).every(Number.isInteger)) throw new ValidationError('state.namespaces', 'must map kinds to inode numbers');
  if (!Array.isArray(s.capabilities) || s.capabilities.some((c) => capabilityName(c) !== c)) throw new ValidationError('state.capabilities', 'must be a list of CAP_* names');
  if (typeof s.seccomp !== 'string') throw new ValidationError('state.seccomp', 'must be a string');
  if (typeof s.user !== 'object' || s.user === null || !Number.isInteger(s.user.uid) || !Number.isInteger(s.user.gid)) throw new ValidationError('state.user', 'must be { uid, gid }');
  if (!Array.isArray(s.env) || s.env.some((e) => typeof e !== 'string')) throw new ValidationError('state.env', 'must be a list of K=V strings');
  if (typeof s.cwd !== 'string' || !s.cwd.startsWith('/')) throw new ValidationError('state.cwd', 'must be an absolute path');
}

function checkOptions(command: unknown, o: ExecOptions): void {
  if (!Array.isArray(command) || command.length === 0 || command.some((a) => typeof a !== 'string' || a.includes('\0')) || command[0] === '') {
    throw new ValidationError('command', 'give the program and its arguments, strings without NUL bytes');
  }
  if (typeof o !== 'object' || o === null) throw new ValidationError('options', 'must be an object');
  for (const k of Object.keys(o)) if (!['env', 'cwd', 'user', 'tty', 'stdio'].includes(k)) throw new ValidationError(k, 'unknown option');
  if (o.env !== undefined && (!Array.isArray(o.env) || o.env.some((e) => typeof e !== 'string' || !/^[^=\0]+=[^\0]*$/.test(e)))) throw new ValidationError('env', 'must be a list of KEY=value strings');
  if (o.cwd !== undefined && (typeof o.cwd !== 'string' || !o.cwd.startsWith('/') || o.cwd.includes('\0'))) throw new ValidationError('cwd', `must be an absolute path: ${JSON.stringify(o.cwd)}`);
  if (o.user !== undefined) checkUserSpec(o.user);
  checkTty('tty', o.tty);
  if (o.stdio !== undefined && (!Array.isArray(o.stdio) || o.stdio.length !== 3)) throw new ValidationError('stdio', 'must be [stdin, stdout, stderr], each an fd or null');
}

/**
 * The container is still the one `state` describes: a pid is reused once
 * its process is gone, but not with the same namespace inodes.
 */
function checkAlive(s: ContainerState): void {
  const now = namespaceInodes(s.pid);
  const differ = Object.entries(s.namespaces).filter(([k, ino]) => now[k] !== ino).map(([k]) => k);
  if (Object.keys(now).length === 0 || differ.length) {
    throw new NskError(`container ${s.name} is not running (process ${s.pid} ${Object.keys(now).length ? `is in other namespaces: ${differ.join(', ')}` : 'is gone'})`, 'ERR_NSK_CONTAINER_GONE');
  }
}

/**
 * Runs `command` in the running container `state` describes (from
 * Container.state(), or state.json written by another process). Resolves
 * once it runs, with its pid and a promise of its exit.
 */
export async function exec(state: ContainerState, command: string[], opts: ExecOptions = {}): Promise<ExecProcess> {
  checkState(state);
  checkOptions(command, opts);
  checkAlive(state);
  const pid = state.pid;
  const root = `/proc/${pid}/root`;

  // The user, read from the container's own files through its root.
  const u = resolveUser(opts.user ?? `${state.user.uid}:${state.user.gid}`, [root], 'user');
  // user_namespaces(7): setgroups(2) stays denied in a rootless namespace
  // whose gid map was written without newgidmap.
  let setgroups = 'allow';
  try {
    setgroups = readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim();
  } catch { /* older kernels: allowed */ }
  const identity: Identity = { uid: u.uid, gid: u.gid, groups: setgroups === 'deny' ? null : u.groups };

  const env = mergeEnv(state.env, opts.user !== undefined && !opts.env?.some((e) => e.startsWith('HOME=')) ? [`HOME=${u.home}`] : [], opts.env);
  const seccomp = chooseSeccomp(state.seccomp, state.capabilities, 'state.seccomp');

  // pid_namespaces(7): setns(CLONE_NEWPID) moves only future children, so
  // root's Node joins it around clone(2) and the child is born inside. That
  // setns needs CAP_SYS_ADMIN in the caller's own user namespace too
  // (setns(2)), which a rootless caller lacks: its child joins the user
  // namespace first and the pid namespace after — so the program's children
  // are in the container's pid namespace, the program itself keeps its pid.
  //
  // A program outside its container's pid namespace finds no /proc/self in
  // the container's /proc. So when the container has a shell, it is the
  // program's parent: `sh -c '"$@"; exit $?'` forks the program inside the
  // pid namespace, waits, and exits with its status (128 + the signal when
  // one killed it), as runc's intermediate process does for rootless exec.
  const rootless = !isRoot();
  const shim = rootless && state.namespaces.pid !== undefined && kindInRoot(root, '/bin/sh') === 'file';
  const argv = shim ? ['/bin/sh', '-c', '"$@"; exit $?', 'sh', ...command] : command;
  const search = searchPath(argv[0]!, envValue(env, 'PATH'));
  let pidFd: number | null = null;
  let terminal: Terminal | null = null;
  const kinds = Object.keys(state.namespaces).filter((k) => k !== 'pid' || !rootless) as NamespaceType[];
  const join = ns().joinNamespaces({ pid, namespaces: kinds, preserveCredentials: true });
  try {
    if (rootless && state.namespaces.pid !== undefined) pidFd = openSync(`/proc/${pid}/ns/pid`, O.RDONLY | O.CLOEXEC);
    const fd = pidFd;
    const joinPid: Feature | null = fd === null ? null : {
      name: 'join-pid-namespace',
      plan: (plan: Plan) => { plan.setns(fd, CLONE.NEWPID, { label: `join the pid namespace of process ${pid} for the program’s children` }); },
    };
    const cgroup = joinCgroup(pid);
    const ttyOption = checkTty('tty', opts.tty);
    if (ttyOption.tty) terminal = openTerminal();
    // Sized before the child exists: its first TIOCGWINSZ sees it (tty_ioctl(4)).
    if (terminal && ttyOption.size) setTerminalSize(terminal.master, ttyOption.size.rows, ttyOption.size.columns);
    const tty = terminal ? terminalFeatures(terminal, { console: false }) : null;
    const features: Feature[] = [
      ...(tty ? [tty.open] : []),
      join,
      ...(joinPid ? [joinPid] : []),
      cgroup,
      ...(tty ? [tty.attach] : []),
      credentials({ keep: state.capabilities, ambient: [], identity, cwd: opts.cwd ?? state.cwd }),
      seccompFeature(seccomp),
      ...(search.earlier.length ? [pathSearch(search, argv, env)] : []),
    ];
    const child = await spawn({
      argv,
      path: search.path,
      env,
      stdio: terminal ? [null, null, null] : opts.stdio ?? [0, 1, 2],
      features,
    });
    return { pid: child.pid, ...(terminal ? { terminal: terminal.master } : {}), exited: child.exited };
  } catch (err) {
    if (terminal) closeSync(terminal.master);
    throw err;
  } finally {
    join.close();
    if (pidFd !== null) closeSync(pidFd);
  }
}
