// Installing a filter as the child's last steps before execve(2).
//
// seccomp(2): SECCOMP_SET_MODE_FILTER needs either CAP_SYS_ADMIN in the
// caller's user namespace or no_new_privs set first (so a filtered process
// cannot exec a setuid program that runs with the filter it was given).
// We set no_new_privs by default, as Docker does with --security-opt
// no-new-privileges and as every unprivileged caller must.
//
// The filter stays for the life of the process and its children; it is
// the last thing the plan does, so that the plan's own calls (mount,
// pivot_root, …) are not subject to it. Only execve(2) runs under it — so
// a profile that denies execve would stop the container before it starts,
// and compile-time checks refuse such a profile here.
import { readFileSync } from 'node:fs';
import { F, PR, ValidationError, hostArch } from '@nsk/syscall';
import { num, type Feature, type Plan, type StepOptions } from '@nsk/clone';
import { lets, type ActionKind } from './action.ts';
import { compile, Filter, type CompileOptions } from './filter.ts';
import type { SeccompProfile } from './profile/types.ts';

/** seccomp(2) operations and flags (linux/seccomp.h). */
export const SECCOMP_SET_MODE_FILTER = 1;
export const SECCOMP_FILTER_FLAG = { TSYNC: 1, LOG: 2, SPEC_ALLOW: 4, NEW_LISTENER: 8, TSYNC_ESRCH: 16, WAIT_KILLABLE_RECV: 32 } as const;

function flagNames(flags: number): string {
  const names = Object.entries(SECCOMP_FILTER_FLAG).filter(([, bit]) => flags & bit).map(([name]) => `SECCOMP_FILTER_FLAG_${name}`);
  return names.length ? names.join('|') : '0';
}

export interface InstallOptions {
  /** prctl(PR_SET_NO_NEW_PRIVS, 1) first. Default true. */
  noNewPrivs?: boolean;
  /**
   * For SCMP_ACT_NOTIFY: ask for a listener fd (SECCOMP_FILTER_FLAG_NEW_LISTENER)
   * and keep it open across execve, so a supervisor can copy it out of the
   * running program with takeListener(pid).
   */
  listener?: boolean;
}

const KERNEL_NAMES: Record<ActionKind, string> = {
  'allow': 'allow', 'errno': 'errno', 'kill-process': 'kill_process', 'kill-thread': 'kill_thread',
  'trap': 'trap', 'trace': 'trace', 'log': 'log', 'user-notify': 'user_notif',
};

/** The actions this kernel implements (/proc/sys/kernel/seccomp/actions_avail, Linux 4.14). */
export function availableActions(): Set<ActionKind> {
  const have = new Set(readFileSync('/proc/sys/kernel/seccomp/actions_avail', 'utf8').trim().split(/\s+/));
  return new Set((Object.keys(KERNEL_NAMES) as ActionKind[]).filter((k) => have.has(KERNEL_NAMES[k])));
}

/** Refuses, before anything is created, a filter this kernel or this plan could not run. */
export function checkInstallable(filter: Filter, o: InstallOptions = {}): void {
  if (!filter.arches.includes(hostArch)) {
    throw new ValidationError('arch', `the filter has no section for ${hostArch}, this machine: its first call would be killed as a foreign ABI`);
  }
  const avail = availableActions();
  for (const kind of filter.actionKinds) {
    if (!avail.has(kind)) throw new ValidationError('profile', `this kernel has no ${kind} action (/proc/sys/kernel/seccomp/actions_avail)`);
  }
  // (Without a listener, SECCOMP_RET_USER_NOTIF fails the call with ENOSYS:
  // allowed, if seldom meant.)
  const needed = ['execve', ...(o.listener ? ['fcntl'] : [])];
  for (const name of needed) {
    const v = filter.verdict(name, [], hostArch);
    if (!lets(v)) throw new ValidationError('profile', `it stops ${name} (${v.kind}), which the container needs after the filter is installed`);
  }
  if (o.listener && filter.flags & SECCOMP_FILTER_FLAG.TSYNC && !(filter.flags & SECCOMP_FILTER_FLAG.TSYNC_ESRCH)) {
    throw new ValidationError('flags', 'SECCOMP_FILTER_FLAG_TSYNC with a listener needs SECCOMP_FILTER_FLAG_TSYNC_ESRCH too (seccomp(2))');
  }
}

/**
 * Adds the steps that install `filter` to `plan`: no_new_privs, then
 * seccomp(SECCOMP_SET_MODE_FILTER). Put them last, right before execve.
 * The instructions are placed in the plan's own memory, with the
 * sock_fprog pointing at them (Plan.seccomp).
 */
export function planSeccomp(plan: Plan, filter: Filter, o: InstallOptions = {}, opts?: StepOptions): void {
  if (o.noNewPrivs ?? true) {
    plan.add('prctl', [num(PR.SET_NO_NEW_PRIVS, 'PR_SET_NO_NEW_PRIVS'), num(1), num(0), num(0), num(0)], 'set no_new_privs (seccomp(2) asks it of a caller without CAP_SYS_ADMIN)');
  }
  const flags = filter.flags | (o.listener ? SECCOMP_FILTER_FLAG.NEW_LISTENER : 0);
  const listener = plan.seccomp(flags, filter.bytes(), { flags: flagNames(flags) }, opts);
  if (o.listener) {
    // The listener is created close-on-exec; the program is to keep it.
    plan.add('fcntl', [listener, num(F.SETFD, 'F_SETFD'), num(0)], 'keep the seccomp listener open across execve');
  }
}

export interface SeccompFeatureOptions extends CompileOptions, InstallOptions {}

/**
 * A Feature that confines the container's program to `profile`: a Filter,
 * a Docker/OCI profile object, or its JSON text. Compiles and checks it now.
 */
export function seccomp(profile: Filter | SeccompProfile | string, o: SeccompFeatureOptions = {}): Feature {
  const filter = profile instanceof Filter ? profile : compile(profile, o);
  checkInstallable(filter, o);
  return {
    name: 'seccomp',
    plan: (plan) => planSeccomp(plan, filter, o),
  };
}
