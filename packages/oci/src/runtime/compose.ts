// The child's plan for `create`, features in the kernel's order:
//   join (setns by path) · user (maps written by the parent) · cgroup
//   (attached by the parent) · unshare (cgroup; and every new namespace
//   but pid when a user namespace is joined: owned-namespaces.ts) · oom_score_adj ·
//   console slave · exec fifo fd · rootfs mounts and devices · the hook
//   pause (createRuntime, createContainer) · pivot_root · /dev/console · hostname,
//   sysctls · masked and read-only paths · read-only root · rlimits, umask, capabilities, no_new_privs,
//   seccomp · ready, then the blocking open of the exec fifo · execve.
import { CLONE } from '@nsk/syscall';
import type { Feature, SpawnOptions } from '@nsk/clone';
import { joinNamespaces, NS_FLAG, type JoinFeature } from '@nsk/ns';
import { user } from '@nsk/user';
import { time } from '@nsk/time';
import { pathSearch, searchPath, terminalFeatures, type Terminal } from '@nsk/container';
import type { OciSpec } from '../config/index.ts';
import { credentialsFeature, namespaceSettings, oomFeature } from './process-plan.ts';
import { pivotFeature, protectFeature, readonlyRootFeature, rootfsFeature } from './rootfs-plan.ts';
import { execFifo } from './exec-fifo.ts';
import { joinedUserNamespace, unshareFeature } from './owned-namespaces.ts';

export interface ComposeOptions {
  fifo: string;
  readyFd: number;
  fifoSlot: number;
  terminal: Terminal | null;
  preserveFds: number;
  noPivot: boolean;
  parentFeatures: Feature[];
  /** The hook pause's steps (hook-pause.ts), just before pivot_root; null without create hooks. */
  hookPause: Feature | null;
}

export interface Composed { options: SpawnOptions; join: JoinFeature | null }

export function envPath(env: readonly string[]): string | undefined {
  return env.findLast((e) => e.startsWith('PATH='))?.slice(5);
}

export function composeCreate(spec: OciSpec, o: ComposeOptions): Composed {
  const p = spec.process;
  const joinsUser = joinedUserNamespace(spec) !== null;
  const fresh = spec.namespaces.filter((n) => n.path === null).map((n) => n.type);
  const joined = spec.namespaces.filter((n) => n.path !== null);
  // A joined user namespace: become root in it right after the setns
  // (user_namespaces(7): the kernel uid is kept and may be unmapped there;
  // files made by an unmapped fsuid fail with EOVERFLOW). The process's own
  // user comes later (credentialsFeature).
  const join = joined.length ? joinNamespaces({ files: Object.fromEntries(joined.map((n) => [n.type, n.path!])), namespaces: joined.map((n) => n.type), preserveCredentials: !joinsUser, minFd: 3 + o.preserveFds }) : null;
  const newUser = fresh.includes('user');
  const userns = newUser || joinsUser;
  const userFeature = newUser ? user({ uidMap: spec.uidMappings, gidMap: spec.gidMappings, uid: 0, gid: 0 }) : null;
  // Made by clone(2) flags: owned by the new user namespace (or ours).
  // Unshared in the plan: the cgroup namespace always (after the parent
  // attached the cgroups: its root is the container's cgroup), and all of
  // them after a joined user namespace's setns (then it owns them).
  // A time namespace is neither: clone(2) has no room for CLONE_NEWTIME
  // (@nsk/time unshares it last, and execve moves the process in).
  const later = fresh.filter((t) => t !== 'user' && t !== 'pid' && t !== 'time' && (t === 'cgroup' || joinsUser));
  let flags = 0;
  for (const t of fresh) if (t !== 'user' && t !== 'time' && !later.includes(t)) flags |= NS_FLAG[t];
  // time_namespaces(7): offsets are written before any process is inside,
  // with CAP_SYS_TIME (the child still has every capability here).
  const clocks = fresh.includes('time') ? time(spec.timeOffsets ?? {}) : null;
  const namespaces: Feature = { name: 'namespaces', cloneFlags: flags };
  const unshare = unshareFeature(later);
  const fifo = execFifo(o.fifo, o.readyFd, o.fifoSlot);
  const tty = o.terminal ? terminalFeatures(o.terminal, { console: true }) : null;
  const oom = oomFeature(p);
  const ro = readonlyRootFeature(spec);
  const protect = protectFeature(spec);
  const search = searchPath(p.args[0]!, envPath(p.env), 'process.args');
  const features: Feature[] = [
    ...(join ? [join] : []),
    ...(userFeature ? [userFeature] : []),
    namespaces,
    ...(unshare ? [unshare] : []),
    ...o.parentFeatures,
    ...(oom ? [oom] : []),
    ...(tty ? [tty.open] : []),
    fifo.take,
    rootfsFeature(spec, { noPivot: o.noPivot, userns }),
    ...(o.hookPause ? [o.hookPause] : []),
    pivotFeature(spec, { noPivot: o.noPivot, userns }),
    ...(tty ? [tty.attach] : []),
    namespaceSettings(spec),
    ...(protect ? [protect] : []),
    ...(ro ? [ro] : []),
    ...(clocks ? [clocks] : []),
    credentialsFeature({ process: p, seccomp: spec.seccomp }),
    fifo.wait,
    ...(search.earlier.length ? [pathSearch(search, p.args, p.env)] : []),
  ];
  const stdio: Array<number | null> = o.terminal ? [null, null, null] : [0, 1, 2];
  for (let i = 0; i < o.preserveFds; i++) stdio.push(3 + i);
  void CLONE;
  return { options: { argv: p.args, path: search.path, env: p.env, stdio, features, shareMemory: false }, join };
}
