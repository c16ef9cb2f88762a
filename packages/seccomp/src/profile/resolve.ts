// Checking a profile and resolving it for one machine. Every problem is a
// ValidationError whose field is the JSON path of the culprit
// (`syscalls[3].args[0].op`), found before anything touches the kernel.
import { release } from 'node:os';
import { ValidationError, hostArch } from '@nsk/syscall';
import { SCMP_ACTIONS, type Action } from '../action.ts';
import { SCMP_ARCHES, SCMP_TO_ARCH, isKnownSyscall, matchesArch, type Arch } from '../arch.ts';
import { OPERATORS, type Condition, type Operator, type Policy, type Rule } from '../policy.ts';
import type { SeccompArg, SeccompFilterCond, SeccompProfile, SeccompSyscall } from './types.ts';

export interface ResolveOptions {
  /** The machine's ABI: its section comes first, and Docker's includes/excludes `arches` match it. Default: this machine. */
  arch?: Arch;
  /**
   * The container's capabilities (bounding set), for Docker's includes/excludes
   * `caps`. Default: Docker's default set (DEFAULT_CAPABILITIES).
   */
  capabilities?: readonly string[];
  /** The kernel release for `minKernel` ("6.1.0"). Default: this machine's (uname -r). */
  kernel?: string;
  /**
   * A name no ABI we know has: 'reject' (default) throws; 'ignore' skips it,
   * as runc does for names newer than its libseccomp.
   */
  unknownSyscalls?: 'reject' | 'ignore';
}

/** The capabilities Docker gives a container by default (moby's oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** SECCOMP_FILTER_FLAG_* (linux/seccomp.h) a profile may ask for. */
export const FILTER_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH: 16,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

/** include/linux/err.h: the kernel returns at most -4095 as an error. */
const MAX_ERRNO = 4095;
const EPERM = 1;
const U64_MAX = (1n << 64n) - 1n;

const fail = (field: string, message: string): never => {
  throw new ValidationError(field, message);
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: object, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) fail(path ? `${path}.${k}` : k, `unknown field (known: ${keys.join(', ')})`);
  }
}

function strings(v: unknown, path: string): string[] {
  if (!Array.isArray(v)) return fail(path, 'must be an array of strings');
  v.forEach((s, i) => {
    if (typeof s !== 'string') fail(`${path}[${i}]`, `must be a string, not ${JSON.stringify(s)}`);
  });
  return v as string[];
}

function uint64(v: unknown, path: string): bigint {
  let n: bigint | undefined;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) fail(path, `${v} is not an exact integer; write values above 2^53 as a string, or read the profile with parseProfile()`);
    n = BigInt(v);
  } else if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v)) n = BigInt(v);
  else fail(path, `must be an unsigned 64-bit integer, not ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}`);
  if (n! < 0n || n! > U64_MAX) fail(path, `${n} does not fit in 64 unsigned bits`);
  return n!;
}

function action(name: unknown, errnoRet: unknown, path: string, errnoPath: string, defaultErrno: number): Action {
  if (typeof name !== 'string' || !Object.hasOwn(SCMP_ACTIONS, name)) {
    return fail(path, `unknown action ${JSON.stringify(name)} (known: ${Object.keys(SCMP_ACTIONS).join(', ')})`);
  }
  const kind = SCMP_ACTIONS[name]!;
  if (errnoRet !== undefined && errnoRet !== null) {
    if (kind !== 'errno' && kind !== 'trace') fail(errnoPath, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take a return value, not ${name}`);
    const max = kind === 'errno' ? MAX_ERRNO : 0xffff;
    if (typeof errnoRet !== 'number' || !Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > max) fail(errnoPath, `must be an integer from 0 to ${max}, not ${JSON.stringify(errnoRet)}`);
    return { kind, data: errnoRet as number };
  }
  // runc's choice: ERRNO and TRACE without a value mean EPERM.
  return { kind, data: kind === 'errno' || kind === 'trace' ? defaultErrno : 0 };
}

function condition(a: SeccompArg, path: string): Condition {
  if (!isObject(a)) return fail(path, 'must be an object {index, value, valueTwo?, op}');
  onlyKeys(a, path, ['index', 'value', 'valueTwo', 'op']);
  // seccomp_data has six arguments (linux/seccomp.h).
  if (typeof a.index !== 'number' || !Number.isInteger(a.index) || a.index < 0 || a.index > 5) fail(`${path}.index`, `must be an argument index from 0 to 5, not ${JSON.stringify(a.index)}`);
  if (typeof a.op !== 'string' || !Object.hasOwn(OPERATORS, a.op)) fail(`${path}.op`, `unknown operator ${JSON.stringify(a.op)} (known: ${Object.keys(OPERATORS).join(', ')})`);
  const op: Operator = OPERATORS[a.op as keyof typeof OPERATORS];
  if (a.value === undefined) fail(`${path}.value`, 'is missing');
  const value = uint64(a.value, `${path}.value`);
  const valueTwo = a.valueTwo === undefined || a.valueTwo === null ? 0n : uint64(a.valueTwo, `${path}.valueTwo`);
  if (op !== 'masked-eq' && valueTwo !== 0n) fail(`${path}.valueTwo`, `only SCMP_CMP_MASKED_EQ uses valueTwo, not ${a.op}`);
  return { index: a.index as number, op, value, valueTwo };
}

/** True when release `kernel` ("6.1.0-13-amd64") is `min` ("4.8") or later. */
export function kernelAtLeast(kernel: string, min: string): boolean {
  const nums = (s: string) => s.split(/[.-]/).slice(0, 3).map((x) => Number.parseInt(x, 10) || 0);
  const [a, b] = [nums(kernel), nums(min)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

function filterCond(f: unknown, path: string): SeccompFilterCond {
  if (!isObject(f)) return fail(path, 'must be an object {caps?, arches?, minKernel?}');
  onlyKeys(f, path, ['caps', 'arches', 'minKernel']);
  if (f.caps !== undefined) strings(f.caps, `${path}.caps`).forEach((c, i) => {
    if (!/^CAP_[A-Z_]+$/.test(c)) fail(`${path}.caps[${i}]`, `not a capability name: ${JSON.stringify(c)}`);
  });
  if (f.arches !== undefined) strings(f.arches, `${path}.arches`);
  if (f.minKernel !== undefined && (typeof f.minKernel !== 'string' || !/^\d+\.\d+(\.\d+)?$/.test(f.minKernel))) fail(`${path}.minKernel`, `must read like "4.8", not ${JSON.stringify(f.minKernel)}`);
  return f as SeccompFilterCond;
}

/** Docker's rule selection (moby profiles/seccomp/seccomp_linux.go). */
function applies(s: SeccompSyscall, arch: Arch, caps: ReadonlySet<string>, kernel: string): boolean {
  const inc = s.includes;
  if (inc) {
    if (inc.arches?.length && !inc.arches.some((a) => matchesArch(a, arch))) return false;
    if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) return false;
    if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
  }
  const exc = s.excludes;
  if (exc) {
    if (exc.arches?.length && exc.arches.some((a) => matchesArch(a, arch))) return false;
    if (exc.caps?.length && exc.caps.some((c) => caps.has(c))) return false;
    if (exc.minKernel && kernelAtLeast(kernel, exc.minKernel)) return false;
  }
  return true;
}

function arches(p: SeccompProfile, target: Arch): Arch[] {
  const listed: string[] = [];
  if (p.architectures !== undefined && p.archMap !== undefined) fail('archMap', 'give either architectures or archMap, not both');
  if (p.architectures !== undefined) {
    strings(p.architectures, 'architectures').forEach((a, i) => {
      if (!(SCMP_ARCHES as readonly string[]).includes(a)) fail(`architectures[${i}]`, `unknown architecture ${JSON.stringify(a)}`);
      listed.push(a);
    });
  }
  if (p.archMap !== undefined) {
    if (!Array.isArray(p.archMap)) fail('archMap', 'must be an array');
    p.archMap.forEach((m, i) => {
      const path = `archMap[${i}]`;
      if (!isObject(m)) fail(path, 'must be an object {architecture, subArchitectures}');
      onlyKeys(m, path, ['architecture', 'subArchitectures']);
      if (!(SCMP_ARCHES as readonly string[]).includes(m.architecture)) fail(`${path}.architecture`, `unknown architecture ${JSON.stringify(m.architecture)}`);
      const subs = m.subArchitectures ? strings(m.subArchitectures, `${path}.subArchitectures`) : [];
      subs.forEach((a, j) => {
        if (!(SCMP_ARCHES as readonly string[]).includes(a)) fail(`${path}.subArchitectures[${j}]`, `unknown architecture ${JSON.stringify(a)}`);
      });
      // Docker takes the entry of the machine's own architecture.
      if (SCMP_TO_ARCH[m.architecture] === target) listed.push(m.architecture, ...subs);
    });
  }
  // The machine's own ABI always has a section (libseccomp adds the native
  // arch too); i386, x32 and the rest never do: they are killed.
  const out: Arch[] = [target];
  for (const a of listed) {
    const ours = a === 'SCMP_ARCH_NATIVE' ? target : SCMP_TO_ARCH[a];
    if (ours && !out.includes(ours)) out.push(ours);
  }
  return out;
}

/** Checks `profile` and resolves it for one machine. */
export function resolveProfile(profile: SeccompProfile, o: ResolveOptions = {}): Policy {
  if (!isObject(profile)) fail('profile', 'must be a JSON object');
  const p = profile as SeccompProfile & Record<string, unknown>;
  onlyKeys(p, '', ['defaultAction', 'defaultErrnoRet', 'architectures', 'archMap', 'flags', 'listenerPath', 'listenerMetadata', 'syscalls']);
  const target = o.arch ?? hostArch;
  const caps = new Set(o.capabilities ?? DEFAULT_CAPABILITIES);
  const kernel = o.kernel ?? release();
  if (p.defaultAction === undefined) fail('defaultAction', 'is missing');
  const defaultAction = action(p.defaultAction, p.defaultErrnoRet, 'defaultAction', 'defaultErrnoRet', EPERM);
  if (p.listenerPath !== undefined) fail('listenerPath', 'sending the listener to a socket is not supported; use the listenerFd option of seccomp() and takeListener()');
  let flags = 0;
  if (p.flags !== undefined) strings(p.flags, 'flags').forEach((f, i) => {
    const bit = FILTER_FLAGS[f];
    if (bit === undefined) fail(`flags[${i}]`, `unknown flag ${JSON.stringify(f)} (known: ${Object.keys(FILTER_FLAGS).join(', ')})`);
    flags |= bit!;
  });
  const sections = arches(p, target);

  const rules: Rule[] = [];
  const unconditional = new Map<string, Rule>();
  const syscalls = p.syscalls ?? [];
  if (!Array.isArray(syscalls)) fail('syscalls', 'must be an array');
  syscalls.forEach((s, i) => {
    const path = `syscalls[${i}]`;
    if (!isObject(s)) fail(path, 'must be an object {names, action, …}');
    onlyKeys(s, path, ['names', 'name', 'action', 'errnoRet', 'args', 'comment', 'includes', 'excludes']);
    const names = s.names !== undefined ? strings(s.names, `${path}.names`) : [];
    if (s.name !== undefined) {
      if (typeof s.name !== 'string') fail(`${path}.name`, 'must be a string');
      names.push(s.name);
    }
    if (names.length === 0) fail(`${path}.names`, 'names no system call');
    const act = action(s.action, s.errnoRet, `${path}.action`, `${path}.errnoRet`, EPERM);
    const args = s.args ?? [];
    if (!Array.isArray(args)) fail(`${path}.args`, 'must be an array');
    const conditions = args.map((a, j) => condition(a, `${path}.args[${j}]`));
    if (s.includes !== undefined) filterCond(s.includes, `${path}.includes`);
    if (s.excludes !== undefined) filterCond(s.excludes, `${path}.excludes`);
    const known = names.map((n, j) => {
      if (isKnownSyscall(n)) return true;
      if (o.unknownSyscalls === 'ignore') return false;
      return fail(`${path}.names[${j}]`, `no ABI we know has a system call named ${JSON.stringify(n)}`);
    });
    if (!applies(s, target, caps, kernel)) return;
    names.forEach((name, j) => {
      if (!known[j]) return;
      const rule: Rule = { name, action: act, conditions, path };
      if (conditions.length === 0) {
        // The first rule without arguments decides; a later one for the same
        // call is ignored. That is libseccomp's rule (seccomp_rule_add keeps
        // the existing entry), so runc and crun behave the same, and real
        // profiles rely on it: podman's lists setns both as allowed and, for
        // containers without CAP_SYS_ADMIN, as EPERM; setns stays allowed.
        if (unconditional.has(name)) return;
        unconditional.set(name, rule);
      }
      rules.push(rule);
    });
  });
  return { defaultAction, arches: sections, flags, rules };
}

