// The Feature that makes a new child join existing namespaces — nsenter(1)
// as a plan. setns(2) moves the calling thread; in the child each kind has
// its rule, so the order is fixed:
//
//   user first   the other namespaces are owned by it: joining it first
//                gives the capabilities the other setns calls need there
//                (user_namespaces(7)); joining our own is EINVAL (setns(2)).
//   ipc uts net cgroup time   independent of each other.
//   mount last   setns(CLONE_NEWNS) resets root and cwd to the namespace's
//                root (setns(2)), and the paths after it (chroot, chdir,
//                execve) must resolve inside.
//   pid          not in the child at all: setns(CLONE_NEWPID) changes only
//                where the caller's *next children* are born
//                (pid_namespaces(7)), so Node's main thread joins it just
//                around clone(2) and returns to its own right after.
import { fstatSync, readdirSync, statSync } from 'node:fs';
import { CLONE, F, O, ValidationError, fcntl, setns } from '@nsk/syscall';
import type { Feature, Plan } from '@nsk/clone';
import { NAMESPACE_TYPES, NS_FILE, NS_FLAG, NS_GET, isNamespaceType, typeOfFlag, type NamespaceType } from './types.ts';
import { closeFd, ioctl, openNs, openOfProcess } from './nsfd.ts';
import { codeOf, fsError } from './fs-error.ts';

export interface JoinOptions {
  /** The process whose namespaces are joined (`nsenter -t PID`). */
  pid?: number;
  /** Which kinds; default `'all'`: every kind of `pid`, and those in `files`. */
  namespaces?: readonly NamespaceType[] | 'all';
  /** Namespace files to join instead of the process's (`nsenter --net=/run/netns/box`). */
  files?: Partial<Record<NamespaceType, string>>;
  /**
   * chroot to the process's root directory after joining its mount namespace
   * (`nsenter -r`). Default: true when the mount namespace of `pid` is joined,
   * so a chroot'ed container is entered as its processes see it; with
   * pivot_root'ed ones the two roots are the same.
   */
  root?: boolean;
  /**
   * The working directory, resolved after the root change. Default: the
   * process's own working directory when its mount namespace is joined
   * (`nsenter -w`), else unchanged.
   */
  cwd?: string;
  /**
   * The uid and gid to become (setresuid/setresgid; supplementary groups are
   * cleared). Default 0 when a user namespace is joined, as nsenter does;
   * otherwise unchanged.
   */
  uid?: number;
  gid?: number;
  /** Keep this process's uid, gid and groups even when joining a user namespace (`nsenter --preserve-credentials`). */
  preserveCredentials?: boolean;
  /** Our fds are kept at or above this number (the child's stdio takes the ones below). Default 3. */
  minFd?: number;
}

/** One namespace the child will be in. */
export interface Joined {
  type: NamespaceType;
  inode: number;
  /** Where its fd came from: `/proc/PID/ns/net` or a file. */
  from: string;
  /**
   * `'child'`: a setns step of the plan. `'parent'`: Node's main thread, around clone (pid).
   * `'already'`: the child is born in it (it is ours): not joined again.
   */
  how: 'child' | 'parent' | 'already';
}

export interface JoinFeature extends Feature {
  readonly joined: readonly Joined[];
  /**
   * True when the plan cannot run in a child sharing Node's memory (joining
   * a user or time namespace). The plan says so itself, so spawn() turns
   * CLONE_VM off.
   */
  readonly needsPrivateMemory: boolean;
  /** Closes the fds it holds. Idempotent; spawn calls it right after clone(2). */
  close(): void;
}

/** The order of setns calls in the child; pid is joined by the parent. */
export const JOIN_ORDER: readonly NamespaceType[] = ['user', 'ipc', 'uts', 'net', 'cgroup', 'time', 'mount'];

interface Opened {
  type: NamespaceType;
  fd: number;
  inode: number;
  from: string;
}

function checkOptions(o: JoinOptions): void {
  if (o.pid !== undefined && (!Number.isInteger(o.pid) || o.pid <= 0)) throw new ValidationError('pid', `not a process id: ${String(o.pid)}`);
  const files = o.files ?? {};
  for (const [type, path] of Object.entries(files)) {
    if (!isNamespaceType(type)) throw new ValidationError('files', `unknown namespace kind ${JSON.stringify(type)} (known: ${NAMESPACE_TYPES.join(', ')})`);
    if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0')) throw new ValidationError(`files.${type}`, `not an absolute path: ${JSON.stringify(path)}`);
  }
  if (o.namespaces !== undefined && o.namespaces !== 'all') {
    if (!Array.isArray(o.namespaces)) throw new ValidationError('namespaces', 'give a list of kinds or \'all\'');
    for (const t of o.namespaces) {
      if (!isNamespaceType(t)) throw new ValidationError('namespaces', `unknown namespace kind ${JSON.stringify(t)} (known: ${NAMESPACE_TYPES.join(', ')})`);
      if (o.pid === undefined && files[t] === undefined) throw new ValidationError('namespaces', `${t}: give a pid or files.${t} to join it from`);
    }
  }
  if (o.pid === undefined && Object.keys(files).length === 0) throw new ValidationError('pid', 'give the process to join, or namespace files');
  if (o.root && o.pid === undefined) throw new ValidationError('root', 'changing to the process’s root needs its pid');
  if (o.cwd !== undefined && (typeof o.cwd !== 'string' || o.cwd === '' || o.cwd.includes('\0'))) throw new ValidationError('cwd', `not a path: ${JSON.stringify(o.cwd)}`);
  for (const k of ['uid', 'gid'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v >= 0xffffffff)) throw new ValidationError(k, `not an id: ${String(v)}`);
    if (v !== undefined && o.preserveCredentials) throw new ValidationError(k, 'cannot be combined with preserveCredentials');
  }
  if (o.minFd !== undefined && (!Number.isInteger(o.minFd) || o.minFd < 0)) throw new ValidationError('minFd', `not a file descriptor number: ${String(o.minFd)}`);
}

/** The kinds to join from `pid`: those asked for (or all it has) that no file overrides. */
function kindsFromPid(o: JoinOptions): NamespaceType[] {
  if (o.pid === undefined) return [];
  const files = o.files ?? {};
  let kinds: NamespaceType[];
  if (o.namespaces === undefined || o.namespaces === 'all') {
    let present: string[];
    try {
      present = readdirSync(`/proc/${o.pid}/ns`);
    } catch (err) {
      throw fsError(err, `join the namespaces of process ${o.pid}`, `/proc/${o.pid}/ns`, codeOf(err) === 'ENOENT' ? `there is no process ${o.pid}` : undefined);
    }
    kinds = NAMESPACE_TYPES.filter((t) => present.includes(NS_FILE[t]));
  } else {
    kinds = [...o.namespaces];
  }
  return kinds.filter((t) => files[t] === undefined);
}

/** fstat of our own /proc/thread-self/ns/FILE: where a child of this thread is born. */
function ours(file: string): number {
  return statSync(`/proc/thread-self/ns/${file}`).ino;
}

/** A namespace fd moved to at least `min`, still close-on-exec. */
function above(fd: number, min: number): number {
  if (fd >= min) return fd;
  const moved = fcntl(fd, F.DUPFD_CLOEXEC, min);
  closeFd(fd);
  return moved;
}

/**
 * A Feature whose child joins the namespaces of a running process (or of
 * namespace files) before execve: `nsenter -t PID -a` as a plan. It opens
 * the namespace fds now; spawn() closes them right after clone(2), and
 * `close()` does if spawn is never reached.
 */
export function joinNamespaces(o: JoinOptions): JoinFeature {
  checkOptions(o);
  const fromPid = kindsFromPid(o);
  const mountFromPid = fromPid.includes('mount');
  const doRoot = o.root ?? mountFromPid;
  const doCwd = o.cwd === undefined && mountFromPid;
  const step = `join the namespaces of ${o.pid !== undefined ? `process ${o.pid}` : 'files'}`;

  const all: number[] = [];
  const closeAll = () => { for (const fd of all.splice(0)) closeFd(fd); };
  const opened: Opened[] = [];
  let rootFd: number | null = null;
  let cwdFd: number | null = null;
  let ownPid: number | null = null;
  try {
    if (o.pid !== undefined) {
      const wanted = [
        ...fromPid.map((t) => ({ path: `ns/${NS_FILE[t]}` })),
        // O_PATH: fchdir(2) accepts it, and nothing is read through it.
        ...(doRoot ? [{ path: 'root', flags: O.PATH | O.DIRECTORY }] : []),
        ...(doCwd ? [{ path: 'cwd', flags: O.PATH | O.DIRECTORY }] : []),
      ];
      const fds = openOfProcess(o.pid, wanted, step);
      all.push(...fds);
      fromPid.forEach((type, i) => opened.push({ type, fd: fds[i]!, inode: 0, from: `/proc/${o.pid}/ns/${NS_FILE[type]}` }));
      if (doRoot) rootFd = fds[fromPid.length]!;
      if (doCwd) cwdFd = fds[fromPid.length + (doRoot ? 1 : 0)]!;
    }
    for (const [type, path] of Object.entries(o.files ?? {}) as Array<[NamespaceType, string]>) {
      const fd = openNs(path, `${step}: open ${path}`);
      all.push(fd);
      const kind = typeOfFlag(ioctl(fd, NS_GET.NSTYPE, `${step}: find what kind of namespace ${path} is`, path));
      if (kind !== type) throw new ValidationError(`files.${type}`, `${path} is a ${kind ?? 'unknown'} namespace, not ${type}`);
      opened.push({ type, fd, inode: 0, from: path });
    }
    const min = Math.max(3, o.minFd ?? 3);
    for (const x of opened) {
      const i = all.indexOf(x.fd);
      x.fd = above(x.fd, min);
      all[i] = x.fd;
      x.inode = fstatSync(x.fd).ino;
    }
    if (rootFd !== null) { const i = all.indexOf(rootFd); rootFd = all[i] = above(rootFd, min); }
    if (cwdFd !== null) { const i = all.indexOf(cwdFd); cwdFd = all[i] = above(cwdFd, min); }
  } catch (err) {
    closeAll();
    throw err;
  }

  const joined: Joined[] = [];
  const setnsSteps: Opened[] = [];
  let pidNs: Opened | null = null;
  let privateMemory = false;
  for (const type of [...JOIN_ORDER, 'pid' as const]) {
    const x = opened.find((y) => y.type === type);
    if (!x) continue;
    // A child is born in our namespaces (for pid and time: in our thread's
    // "for children" ones). Joining one of those again is at best needless
    // and at worst refused: setns into our own user namespace is EINVAL, and
    // once the child has joined another user namespace it has no capability
    // over the namespaces we own (EPERM). nsenter -a skips them too.
    const file = type === 'pid' || type === 'time' ? `${NS_FILE[type]}_for_children` : NS_FILE[type];
    const bornIn = ours(file);
    if (bornIn === x.inode) {
      joined.push({ type, inode: x.inode, from: x.from, how: 'already' });
      continue;
    }
    if (type === 'pid') pidNs = x;
    else setnsSteps.push(x);
    if (type === 'user' || type === 'time') privateMemory = true;
    joined.push({ type, inode: x.inode, from: x.from, how: type === 'pid' ? 'parent' : 'child' });
  }
  const joinsUser = setnsSteps.some((x) => x.type === 'user');
  const setCreds = !o.preserveCredentials && (joinsUser || o.uid !== undefined || o.gid !== undefined);

  if (pidNs) {
    try {
      const fd = above(openNs('/proc/thread-self/ns/pid_for_children', `${step}: remember our own pid namespace`), Math.max(3, o.minFd ?? 3));
      all.push(fd);
      ownPid = fd;
    } catch (err) {
      closeAll();
      throw err;
    }
  }

  const plan = (p: Plan): void => {
    for (const x of setnsSteps) {
      const what = `join the ${x.type} namespace of ${x.from.startsWith('/proc/') ? `process ${o.pid}` : x.from} (${NS_FILE[x.type]}:[${x.inode}])`;
      // time_namespaces(7): setns(2) into a time namespace is refused
      // (EUSERS) to a process sharing its memory with another, like a
      // CLONE_VM child. Plan.setns knows that rule for user namespaces only;
      // nstype 0 ("any kind": the fd's kind was checked here) makes the plan
      // ask for a child with its own memory.
      p.setns(x.fd, x.type === 'time' ? 0 : NS_FLAG[x.type], { label: what });
    }
    if (rootFd !== null) {
      p.fchdir(rootFd, { label: `go to the root directory of process ${o.pid}` });
      p.chroot('.', { label: `make it the root (nsenter -r)` });
    }
    if (o.cwd !== undefined) p.chdir(o.cwd);
    else if (cwdFd !== null) p.fchdir(cwdFd, { label: `go to the working directory of process ${o.pid} (nsenter -w)` });
    if (setCreds) {
      // user_namespaces(7): a process that joined a user namespace keeps its
      // kernel uid, which may not be mapped there; become a mapped one. With
      // /proc/PID/setgroups "deny" the groups cannot change (EPERM).
      p.setgroups([], { tolerate: 'EPERM', label: 'drop supplementary groups' });
      p.setresgid(o.gid ?? 0);
      p.setresuid(o.uid ?? 0);
    }
  };

  const feature: JoinFeature = {
    name: 'join-namespaces',
    joined,
    needsPrivateMemory: privateMemory,
    plan,
    aroundClone() {
      if (!pidNs || ownPid === null) return closeAll;
      const back = ownPid;
      setns(pidNs.fd, CLONE.NEWPID);
      return () => {
        try {
          setns(back, CLONE.NEWPID);
        } finally {
          // The child has its own copy of the fd table (no CLONE_FILES).
          closeAll();
        }
      };
    },
    cleanup: closeAll,
    close: closeAll,
  };
  return feature;
}
