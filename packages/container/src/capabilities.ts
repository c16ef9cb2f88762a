// Capabilities: which of root's powers the container keeps (capabilities(7)).
//
// Five sets matter at execve(2). For the container's program they end up as:
//   bounding    every capability not kept is dropped (PR_CAPBSET_DROP): no
//               later execve — not even of a setuid-root or file-capability
//               program — can bring it back.
//   permitted,  the kept ones (capset(2)). For uid 0, execve recomputes
//   effective   permitted from the bounding set ("root is treated as having
//               all file capabilities"), so the bounding set is what counts.
//   inheritable empty, as Docker since 20.10 (CVE-2022-24769): a file's
//               inheritable capabilities must not be matched by ours.
//   ambient     for a non-root user, execve clears permitted unless the
//               capability is ambient (PR_CAP_AMBIENT, Linux 4.3); the ones
//               asked for explicitly (capAdd) are raised there, as Podman
//               does, so `--user 1000 --cap-add NET_BIND_SERVICE` works.
import { readFileSync } from 'node:fs';
import { PR, ValidationError } from '@nsk/syscall';
import { num, type Feature, type Plan } from '@nsk/clone';

/** linux/capability.h, by number: CAPABILITY_NAMES[21] is 'CAP_SYS_ADMIN'. */
export const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default set (moby's oci/caps/defaults.go): 14 capabilities. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const NUMBERS = new Map(CAPABILITY_NAMES.map((n, i) => [n, i]));

/** PR_CAP_AMBIENT's sub-operations (linux/prctl.h). */
const PR_CAP_AMBIENT_RAISE = 2;

let last: number | undefined;

/**
 * The highest capability this kernel knows: /proc/sys/kernel/cap_last_cap
 * (Linux 3.2). Newer kernels may know more than CAPABILITY_NAMES; those are
 * dropped too, as numbers.
 */
export function lastCapability(): number {
  if (last === undefined) {
    try {
      last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    } catch {
      last = CAPABILITY_NAMES.length - 1;
    }
  }
  return last;
}

/** 'NET_ADMIN', 'cap_net_admin', 'CAP_NET_ADMIN' → 'CAP_NET_ADMIN'; 'ALL' stays 'ALL'; null when unknown. */
export function capabilityName(name: string): string | null {
  if (typeof name !== 'string') return null;
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  return NUMBERS.has(full) ? full : null;
}

/** The number linux/capability.h gives a capability name. */
export function capabilityNumber(name: string): number {
  const n = NUMBERS.get(name);
  if (n === undefined) throw new ValidationError('capabilities', `unknown capability ${JSON.stringify(name)}`);
  return n;
}

function checkList(field: string, list: unknown): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new ValidationError(field, 'give a list of capability names ("NET_ADMIN", "CAP_SYS_TIME" or "ALL")');
  return list.map((x, i) => {
    const name = capabilityName(x as string);
    if (name === null) throw new ValidationError(`${field}[${i}]`, `unknown capability ${JSON.stringify(x)} (capabilities(7) lists them: CAP_CHOWN … ${CAPABILITY_NAMES.at(-1)})`);
    return name;
  });
}

export interface CapabilityChoice {
  /** The capabilities kept, in number order: bounding, permitted and effective sets. */
  keep: string[];
  /** Asked for by name (capAdd, without ALL): raised as ambient for a non-root user. */
  added: string[];
}

/**
 * Docker's rules (moby's TweakCapabilities): capAdd ALL keeps every
 * capability but those in capDrop; else capDrop ALL keeps only capAdd; else
 * DEFAULT_CAPABILITIES less capDrop, plus capAdd (so adding wins).
 */
export function chooseCapabilities(capAdd: unknown, capDrop: unknown): CapabilityChoice {
  const add = checkList('capAdd', capAdd);
  const drop = checkList('capDrop', capDrop);
  let set: Set<string>;
  if (add.includes('ALL')) set = new Set(CAPABILITY_NAMES.filter((c) => !drop.includes(c) && ownBounding().has(c)));
  else if (drop.includes('ALL')) set = new Set(add);
  else set = new Set([...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add]);
  const keep = [...set].sort((a, b) => capabilityNumber(a) - capabilityNumber(b));
  const added = [...new Set(add.filter((c) => c !== 'ALL'))].sort((a, b) => capabilityNumber(a) - capabilityNumber(b));
  return { keep, added };
}

// capabilities(7): "a process can never gain a capability that is not in its
// bounding set", and capset(2) fails with EPERM if asked to. So ALL means
// every capability this process's bounding set still holds (as Docker does),
// which is not always all of them (this CI host lacks CAP_SYS_RESOURCE).
let bounding: Set<string> | undefined;
function ownBounding(): Set<string> {
  if (bounding) return bounding;
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapBnd:'));
  bounding = new Set(line ? capabilityNames(BigInt(`0x${line.slice(7).trim()}`)) : CAPABILITY_NAMES);
  return bounding;
}

/** The bit mask of a list of names (bit n for capability n). */
export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const n of names) mask |= 1n << BigInt(capabilityNumber(n));
  return mask;
}

/** /proc/PID/status CapEff-style hex → names (numbers above the table shown as `CAP_<n>`). */
export function capabilityNames(mask: bigint): string[] {
  const names: string[] = [];
  for (let i = 0; i < 64; i++) if ((mask >> BigInt(i)) & 1n) names.push(CAPABILITY_NAMES[i] ?? `CAP_${i}`);
  return names;
}

export interface Identity {
  uid: number;
  gid: number;
  /** Supplementary groups; null leaves them alone (setgroups denied in a rootless user namespace). */
  groups: readonly number[] | null;
}

export interface CredentialsOptions {
  /** Capabilities kept (names). */
  keep: readonly string[];
  /** Raised as ambient when `identity.uid` is not 0 (a subset of `keep`). */
  ambient: readonly string[];
  identity: Identity;
  /** The working directory, entered as the user (after setresuid). */
  cwd?: string;
}

/**
 * The container's last steps before seccomp: the bounding set, the user and
 * groups, the capability sets, the working directory. Every step needs a
 * capability the previous ones keep, so the order is fixed:
 *
 *  1. PR_CAPBSET_DROP for each capability not kept: needs CAP_SETPCAP in
 *     the effective set (prctl(2)), which a later capset may remove.
 *  2. PR_SET_KEEPCAPS when the uid becomes non-zero: capabilities(7),
 *     "Effect of user ID changes on capabilities" — without it setresuid(2)
 *     to a non-zero uid empties the permitted set.
 *  3. setgroups, setresgid, setresuid: need CAP_SETGID/CAP_SETUID, which a
 *     non-root uid loses from the effective set at once.
 *  4. chdir as the user, with the effective set it has now (empty for a
 *     non-root user): a directory the user may not enter fails here, not
 *     later in a confusing way.
 *  5. capset: permitted and effective = kept, inheritable = ambient.
 *  6. PR_CAP_AMBIENT_RAISE: needs the capability permitted and inheritable.
 */
export function planCredentials(plan: Plan, o: CredentialsOptions): void {
  const keep = new Set(o.keep);
  const lastCap = lastCapability();
  for (let cap = 0; cap <= lastCap; cap++) {
    const name = CAPABILITY_NAMES[cap] ?? `CAP_${cap}`;
    if (keep.has(name)) continue;
    plan.add('prctl', [num(PR.CAPBSET_DROP, 'PR_CAPBSET_DROP'), num(cap, name), num(0), num(0), num(0)], `drop ${name} from the bounding set`);
  }
  const { uid, gid, groups } = o.identity;
  const ambient = uid === 0 ? [] : o.ambient.filter((c) => keep.has(c));
  if (uid !== 0) {
    plan.add('prctl', [num(PR.SET_KEEPCAPS, 'PR_SET_KEEPCAPS'), num(1), num(0), num(0), num(0)], `keep the permitted capabilities across the change to uid ${uid}`);
  }
  if (groups !== null) plan.setgroups(groups);
  plan.setresgid(gid);
  plan.setresuid(uid);
  if (o.cwd !== undefined) plan.chdir(o.cwd, { label: `change directory to ${o.cwd}, as uid ${uid}` });
  const kept = capabilityMask([...keep]);
  plan.capset(kept, kept, capabilityMask(ambient), { label: `set the capabilities: ${keep.size} kept (${[...keep].map((c) => c.slice(4)).join(' ') || 'none'})` });
  for (const c of ambient) {
    plan.add('prctl', [num(PR.CAP_AMBIENT, 'PR_CAP_AMBIENT'), num(PR_CAP_AMBIENT_RAISE, 'PR_CAP_AMBIENT_RAISE'), num(capabilityNumber(c), c), num(0), num(0)], `raise ${c} as ambient, so uid ${uid} keeps it across execve`);
  }
}

/** planCredentials as a Feature (it creates nothing outside). */
export function credentials(o: CredentialsOptions): Feature {
  return { name: 'capabilities', plan: (plan) => planCredentials(plan, o) };
}
