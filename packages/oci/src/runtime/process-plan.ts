// The process's own settings, as the last steps before the exec fifo:
// hostname, sysctls, oom_score_adj, rlimits, umask, then the user and the
// five capability sets, no_new_privs and the seccomp filter.
import { readFileSync } from 'node:fs';
import { AT, O, PR } from '@nsk/syscall';
import { bytes, num, type Feature, type Plan } from '@nsk/clone';
import { planSeccomp, type Filter } from '@nsk/seccomp';
import { CAPABILITY_NAMES } from '@nsk/container';
import type { OciSpec, ProcessSpec } from '../config/index.ts';

const PR_CAP_AMBIENT_RAISE = 2;

function capMask(names: readonly string[]): bigint {
  let m = 0n;
  for (const n of names) m |= 1n << BigInt(CAPABILITY_NAMES.indexOf(n));
  return m;
}

let lastCap: number | undefined;
function lastCapability(): number {
  if (lastCap === undefined) {
    try { lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8')); } catch { lastCap = CAPABILITY_NAMES.length - 1; }
  }
  return lastCap;
}

/** Writes `value` to a file by its path in the child. */
function writeFile(plan: Plan, path: string, value: string, label: string): void {
  const fd = plan.openat(AT.FDCWD, path, O.WRONLY | O.CLOEXEC, 0, { label: `open ${path}` });
  plan.write(fd, value, { label });
  plan.close(fd, { label: `close ${path}` });
}

/** Before the rootfs: oom_score_adj through the host's /proc (proc(5)). */
export function oomFeature(p: ProcessSpec): Feature | null {
  if (p.oomScoreAdj === null) return null;
  const v = String(p.oomScoreAdj);
  return { name: 'oom-score-adj', plan: (plan) => writeFile(plan, '/proc/self/oom_score_adj', v, `set oom_score_adj to ${v}`) };
}

/** After pivot_root: hostname, domainname, sysctls (in the container's own /proc/sys). */
export function namespaceSettings(spec: OciSpec): Feature {
  return {
    name: 'uts-sysctl',
    plan(plan: Plan) {
      if (spec.hostname !== null) plan.sethostname(spec.hostname);
      if (spec.domainname !== null) plan.setdomainname(spec.domainname);
      for (const [k, v] of Object.entries(spec.sysctl)) writeFile(plan, `/proc/sys/${k.replace(/\./g, '/')}`, v, `sysctl ${k}=${v}`);
    },
  };
}

export interface CredentialsPlan {
  process: ProcessSpec;
  seccomp: Filter | null;
}

/**
 * capabilities(7), in the order each step's own needs allow: rlimits and
 * umask; a filter without no_new_privs first (seccomp(2) then needs
 * CAP_SYS_ADMIN, which is dropped below); the bounding set
 * (PR_CAPBSET_DROP needs CAP_SETPCAP); PR_SET_KEEPCAPS before a non-zero
 * setresuid (else permitted is emptied); groups, gid, uid; chdir as the
 * user; capset; ambient raises; no_new_privs and the filter.
 */
export function credentialsFeature(o: CredentialsPlan): Feature {
  const p = o.process;
  return {
    name: 'process',
    plan(plan: Plan) {
      for (const r of p.rlimits) {
        const b = new Uint8Array(16);
        const v = new DataView(b.buffer);
        v.setBigUint64(0, r.soft, true);
        v.setBigUint64(8, r.hard, true);
        plan.add('prlimit64', [num(0), num(r.resource, r.type), bytes(b, `{${r.soft}, ${r.hard}}`), num(0)], `set ${r.type} to ${r.soft}/${r.hard}`);
      }
      if (p.umask !== null) plan.add('umask', [num(p.umask, `0${p.umask.toString(8)}`)], `umask 0${p.umask.toString(8)}`);
      if (o.seccomp && !p.noNewPrivileges) planSeccomp(plan, o.seccomp, { noNewPrivs: false });
      const bounding = new Set(p.capabilities.bounding);
      const last = lastCapability();
      for (let cap = 0; cap <= last; cap++) {
        const name = CAPABILITY_NAMES[cap] ?? `CAP_${cap}`;
        if (bounding.has(name)) continue;
        plan.add('prctl', [num(PR.CAPBSET_DROP, 'PR_CAPBSET_DROP'), num(cap, name), num(0), num(0), num(0)], `drop ${name} from the bounding set`);
      }
      if (p.uid !== 0) plan.add('prctl', [num(PR.SET_KEEPCAPS, 'PR_SET_KEEPCAPS'), num(1), num(0), num(0), num(0)], `keep the permitted capabilities across the change to uid ${p.uid}`);
      plan.setgroups(p.additionalGids);
      plan.setresgid(p.gid);
      plan.setresuid(p.uid);
      plan.chdir(p.cwd, { label: `change directory to ${p.cwd}, as uid ${p.uid}` });
      const c = p.capabilities;
      plan.capset(capMask(c.effective), capMask(c.permitted), capMask(c.inheritable), { label: `set the capabilities: effective ${c.effective.length}, permitted ${c.permitted.length}, inheritable ${c.inheritable.length}` });
      for (const a of c.ambient) plan.add('prctl', [num(PR.CAP_AMBIENT, 'PR_CAP_AMBIENT'), num(PR_CAP_AMBIENT_RAISE, 'PR_CAP_AMBIENT_RAISE'), num(CAPABILITY_NAMES.indexOf(a), a), num(0), num(0)], `raise ${a} as ambient`);
      if (p.noNewPrivileges) {
        if (o.seccomp) planSeccomp(plan, o.seccomp);
        else plan.add('prctl', [num(PR.SET_NO_NEW_PRIVS, 'PR_SET_NO_NEW_PRIVS'), num(1), num(0), num(0), num(0)], 'set no_new_privs (process.noNewPrivileges)');
      }
    },
  };
}
