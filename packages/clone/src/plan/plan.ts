// The typed plan builder: one method per system call a container's child
// makes, each recording a step with a sentence a person can read.
//
//   const plan = new Plan();
//   plan.sethostname('box');
//   plan.execve('/bin/sh', ['sh']);
//   console.log(plan.explain());
import { CLONE, F, MNT, MS, O, SIG_SETMASK, errnoNumber, hostArch, type Arch, type SyscallName } from '@nsk/syscall';
import { NULL, bytes, num, str, strv, type Arg, type Ref, type Step } from './step.ts';
import { atFlags, closeRangeFlags, cloneFlags, dirfd, msFlags, octal, openFlags } from './flags.ts';
import { encodePlan, encodedSize, type EncodeOptions } from './encode.ts';
import { explainSteps } from './explain.ts';

export interface StepOptions {
  /** Replaces the generated description. */
  label?: string;
  /** An errno name that counts as success: `'EEXIST'`. */
  tolerate?: string;
}

/** A file descriptor that an earlier step returns; pass it to later steps. */
export type FdRef = Ref;
type Fd = number | FdRef;

const fdArg = (fd: Fd): Arg => (typeof fd === 'number' ? num(fd, dirfd(fd)) : fd);
const showFd = (fd: Fd): string => (typeof fd === 'number' ? dirfd(fd) : `<fd of step ${fd.step}>`);

const utf8 = new TextEncoder();

/** A kernel sigaction with SIG_DFL, no flags and an empty mask (32 bytes on x86_64 and aarch64). */
const SIGACTION_DEFAULT = new Uint8Array(32);
const SIGSET_EMPTY = new Uint8Array(8);

export class Plan {
  readonly #steps: Step[] = [];
  #privateMemory = false;

  /** The steps, in order. */
  get steps(): readonly Step[] {
    return this.#steps;
  }

  /**
   * True when a step cannot run in a child that shares its parent's memory
   * (CLONE_VM): setns(2) into a user namespace requires a private mm.
   */
  get needsPrivateMemory(): boolean {
    return this.#privateMemory;
  }

  /** Appends a raw step. The typed methods below are preferred. */
  add(syscall: SyscallName, args: Arg[], label: string, opts: StepOptions & { nonzero?: boolean } = {}): Ref {
    const step: Step = {
      syscall,
      args,
      label: opts.label ?? label,
      ...(opts.tolerate !== undefined ? { tolerate: errnoNumber(opts.tolerate) } : {}),
      ...(opts.nonzero ? { nonzero: true } : {}),
    };
    this.#steps.push(step);
    return { kind: 'ref', step: this.#steps.length - 1 };
  }

  /** Appends every step of another plan (a feature's own plan, say). */
  append(other: Plan): this {
    const offset = this.#steps.length;
    for (const s of other.steps) {
      this.#steps.push({ ...s, args: s.args.map((a) => (a.kind === 'ref' ? { kind: 'ref', step: a.step + offset } : a)) });
    }
    this.#privateMemory ||= other.#privateMemory;
    return this;
  }

  // --- mounts: mount(2), umount2(2), pivot_root(2), chroot(2) ---

  mount(source: string | null, target: string, fstype: string | null, flags = 0, data: string | null = null, opts?: StepOptions): Ref {
    const what = flags & MS.BIND ? `bind ${source} on ${target}` : flags & MS.REMOUNT ? `remount ${target}` : source === null && fstype === null ? `set propagation of ${target}` : `mount ${fstype ?? source} on ${target}`;
    return this.add('mount', [source === null ? NULL : str(source), str(target), fstype === null ? NULL : str(fstype), num(flags, msFlags(flags)), data === null ? NULL : str(data)], what, opts);
  }

  umount2(target: string, flags = 0, opts?: StepOptions): Ref {
    return this.add('umount2', [str(target), num(flags, flags === MNT.DETACH ? 'MNT_DETACH' : String(flags))], `unmount ${target}`, opts);
  }

  pivotRoot(newRoot: string, putOld: string, opts?: StepOptions): Ref {
    return this.add('pivot_root', [str(newRoot), str(putOld)], `make ${newRoot} the root`, opts);
  }

  chroot(path: string, opts?: StepOptions): Ref {
    return this.add('chroot', [str(path)], `change root to ${path}`, opts);
  }

  chdir(path: string, opts?: StepOptions): Ref {
    return this.add('chdir', [str(path)], `change directory to ${path}`, opts);
  }

  fchdir(fd: Fd, opts?: StepOptions): Ref {
    return this.add('fchdir', [fdArg(fd)], `change directory to ${showFd(fd)}`, opts);
  }

  // --- files: openat(2), mkdirat(2), symlinkat(2), mknodat(2), unlinkat(2) ---

  /** openat(2). O_CLOEXEC is added unless `inherit` is set: nothing opened by a plan leaks into the container. */
  openat(dir: Fd, path: string, flags: number, mode = 0, opts?: StepOptions & { inherit?: boolean }): FdRef {
    const f = opts?.inherit ? flags : flags | O.CLOEXEC;
    return this.add('openat', [fdArg(dir), str(path), num(f, openFlags(f)), num(mode, octal(mode))], `open ${path}`, opts);
  }

  mkdirat(dir: Fd, path: string, mode = 0o755, opts?: StepOptions): Ref {
    return this.add('mkdirat', [fdArg(dir), str(path), num(mode, octal(mode))], `create directory ${path}`, opts);
  }

  symlinkat(target: string, dir: Fd, linkPath: string, opts?: StepOptions): Ref {
    return this.add('symlinkat', [str(target), fdArg(dir), str(linkPath)], `link ${linkPath} to ${target}`, opts);
  }

  mknodat(dir: Fd, path: string, mode: number, dev: number, opts?: StepOptions): Ref {
    return this.add('mknodat', [fdArg(dir), str(path), num(mode, octal(mode)), num(dev)], `create device ${path}`, opts);
  }

  unlinkat(dir: Fd, path: string, flags = 0, opts?: StepOptions): Ref {
    return this.add('unlinkat', [fdArg(dir), str(path), num(flags, atFlags(flags))], `remove ${path}`, opts);
  }

  // --- file descriptors: dup3(2), fcntl(2), close_range(2), read(2), close(2) ---

  dup3(oldFd: Fd, newFd: number, flags = 0, opts?: StepOptions): Ref {
    return this.add('dup3', [fdArg(oldFd), num(newFd), num(flags, flags ? openFlags(flags) : '0')], `make fd ${newFd} a copy of ${showFd(oldFd)}`, opts);
  }

  /** fcntl(fd, F_SETFD, 0): keep `fd` open across execve. */
  keepOpen(fd: number, opts?: StepOptions): Ref {
    return this.add('fcntl', [num(fd), num(F.SETFD, 'F_SETFD'), num(0)], `keep fd ${fd} open across execve`, opts);
  }

  closeRange(first: number, last: number, flags: number, opts?: StepOptions): Ref {
    const lastArg = last >>> 0 === 0xffffffff ? num(0xffffffff, '~0U') : num(last);
    return this.add('close_range', [num(first), lastArg, num(flags, closeRangeFlags(flags))], flags ? `mark fds ${first}.. close-on-exec` : `close fds ${first}..`, opts);
  }

  close(fd: Fd, opts?: StepOptions): Ref {
    return this.add('close', [fdArg(fd)], `close fd ${showFd(fd)}`, opts);
  }

  /**
   * write(2) of a few bytes, all at once (a short write fails the plan: it is
   * meant for /proc files such as timens_offsets, which take one write).
   */
  write(fd: Fd, data: string | Uint8Array, opts?: StepOptions): Ref {
    const b = typeof data === 'string' ? utf8.encode(data) : data;
    const show = typeof data === 'string' ? JSON.stringify(data) : `<${b.length} bytes>`;
    return this.add('write', [fdArg(fd), bytes(b, show), num(b.length)], `write ${show} to fd ${showFd(fd)}`, opts);
  }

  /**
   * Blocks until the parent writes one byte to `fd`. A zero-byte read (the
   * parent closed the pipe: it died or gave up) fails the plan with EPIPE.
   */
  waitForParent(fd: number, opts?: StepOptions): Ref {
    return this.add('read', [num(fd), bytes(new Uint8Array(8), 'buf'), num(1)], 'wait for the parent', { ...opts, nonzero: true });
  }

  // --- identity and namespaces ---

  sethostname(name: string, opts?: StepOptions): Ref {
    return this.add('sethostname', [str(name), num(Buffer.byteLength(name, 'utf8'))], `set hostname to ${JSON.stringify(name)}`, opts);
  }

  setdomainname(name: string, opts?: StepOptions): Ref {
    return this.add('setdomainname', [str(name), num(Buffer.byteLength(name, 'utf8'))], `set NIS domain name to ${JSON.stringify(name)}`, opts);
  }

  /**
   * setns(2). Entering a user namespace needs a child with its own memory
   * (EINVAL otherwise), and so does a time namespace (EUSERS: the kernel
   * switches the vDSO's clock page of the whole mm); an unnamed type (0)
   * may be either.
   */
  setns(fd: Fd, nstype: number, opts?: StepOptions): Ref {
    if (nstype === 0 || nstype & (CLONE.NEWUSER | CLONE.NEWTIME)) this.#privateMemory = true;
    return this.add('setns', [fdArg(fd), num(nstype, nstype ? cloneFlags(nstype) : '0')], `enter namespace ${showFd(fd)}`, opts);
  }

  unshare(flags: number, opts?: StepOptions): Ref {
    if (flags & CLONE.NEWUSER) this.#privateMemory = true;
    return this.add('unshare', [num(flags, cloneFlags(flags))], `unshare ${cloneFlags(flags)}`, opts);
  }

  setgroups(groups: readonly number[], opts?: StepOptions): Ref {
    const b = new Uint8Array(4 * groups.length);
    groups.forEach((g, i) => new DataView(b.buffer).setUint32(4 * i, g, true));
    return this.add('setgroups', [num(groups.length), groups.length ? bytes(b, `[${groups.join(', ')}]`) : NULL], `set supplementary groups to [${groups.join(', ')}]`, opts);
  }

  setresgid(gid: number, opts?: StepOptions): Ref {
    return this.add('setresgid', [num(gid), num(gid), num(gid)], `become group ${gid}`, opts);
  }

  setresuid(uid: number, opts?: StepOptions): Ref {
    return this.add('setresuid', [num(uid), num(uid), num(uid)], `become user ${uid}`, opts);
  }

  setsid(opts?: StepOptions): Ref {
    return this.add('setsid', [], 'start a new session', opts);
  }

  /** capset(2) with a _LINUX_CAPABILITY_VERSION_3 header and two data structs (64 capability bits). */
  capset(effective: bigint, permitted: bigint, inheritable: bigint, opts?: StepOptions): Ref {
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, 0x20080522, true);
    const data = new Uint8Array(24);
    const dv = new DataView(data.buffer);
    [effective, permitted, inheritable].forEach((set, i) => {
      dv.setUint32(4 * i, Number(set & 0xffffffffn), true);
      dv.setUint32(12 + 4 * i, Number((set >> 32n) & 0xffffffffn), true);
    });
    const show = `{effective=0x${effective.toString(16)}, permitted=0x${permitted.toString(16)}, inheritable=0x${inheritable.toString(16)}}`;
    return this.add('capset', [bytes(header, '{_LINUX_CAPABILITY_VERSION_3, 0}'), bytes(data, show)], 'set capabilities', opts);
  }

  prctl(option: number, a1: number | bigint = 0, a2: number | bigint = 0, a3: number | bigint = 0, a4: number | bigint = 0, opts?: StepOptions): Ref {
    return this.add('prctl', [num(option), num(a1), num(a2), num(a3), num(a4)], `prctl ${option}`, opts);
  }

  /**
   * seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog): `filter` is the array of
   * `struct sock_filter` (8 bytes each); the `struct sock_fprog` {u16 len,
   * 6 bytes of padding, pointer} that seccomp(2) takes is built here and
   * points at the filter placed in the plan's memory.
   */
  seccomp(flags: number, filter: Uint8Array, show: { flags?: string; filter?: string } = {}, opts?: StepOptions): Ref {
    if (filter.length === 0 || filter.length % 8 !== 0 || filter.length / 8 > 4096) {
      throw new RangeError(`a seccomp filter is 1 to 4096 instructions of 8 bytes, not ${filter.length} bytes`);
    }
    const prog = new Uint8Array(16);
    new DataView(prog.buffer).setUint16(0, filter.length / 8, true);
    const len = filter.length / 8;
    return this.add('seccomp', [
      num(1, 'SECCOMP_SET_MODE_FILTER'),
      num(flags, show.flags ?? String(flags)),
      bytes(prog, `{len=${len}, filter=${show.filter ?? `<${len} instructions>`}}`, [{ at: 8, to: filter }]),
    ], `install the seccomp filter (${len} instructions)`, opts);
  }

  // --- signals: rt_sigaction(2), rt_sigprocmask(2) ---

  /** Resets `signal` to SIG_DFL. execve(2) resets caught signals but keeps ignored ones ignored. */
  resetSignal(signal: number, opts?: StepOptions): Ref {
    return this.add('rt_sigaction', [num(signal), bytes(SIGACTION_DEFAULT, '{SIG_DFL}'), NULL, num(8)], 'reset signal dispositions', opts);
  }

  /** Clears the blocked-signal mask. */
  unblockSignals(opts?: StepOptions): Ref {
    return this.add('rt_sigprocmask', [num(SIG_SETMASK, 'SIG_SETMASK'), bytes(SIGSET_EMPTY, '[]'), NULL, num(8)], 'unblock all signals', opts);
  }

  // --- the end ---

  execve(path: string, argv: readonly string[], env: readonly string[] = [], opts?: StepOptions): Ref {
    return this.add('execve', [str(path), strv(argv), strv(env)], `execute ${path}`, opts);
  }

  /** The plan as a person reads strace: one line per step, what and why. */
  explain(arch: Arch = hostArch): string {
    return explainSteps(this.#steps, arch);
  }

  /** Bytes needed to encode this plan. */
  get encodedSize(): number {
    return encodedSize(this.#steps);
  }

  /** The plan in the trampoline's layout, for memory at `opts.base`. */
  encode(opts: EncodeOptions): Uint8Array {
    return encodePlan(this.#steps, opts);
  }
}

