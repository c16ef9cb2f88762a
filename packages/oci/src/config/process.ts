// config.json `process`: what runs, as whom, with which capabilities and limits.
import { CAPABILITY_NAMES } from '@nsk/container';
import { absolute, array, bad, bool, integer, known, object, optInteger, optObject, string, strings, unsupported, type Json } from './json.ts';

export interface Rlimit { type: string; resource: number; soft: bigint; hard: bigint }
export interface Capabilities { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] }

export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  terminal: boolean;
  consoleSize: { height: number; width: number } | null;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask: number | null;
  capabilities: Capabilities;
  rlimits: Rlimit[];
  noNewPrivileges: boolean;
  oomScoreAdj: number | null;
}

/** getrlimit(2): RLIMIT_* numbers (the same on x86_64 and aarch64). */
export const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5, RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10, RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

const KEYS = ['terminal', 'consoleSize', 'user', 'args', 'commandLine', 'env', 'cwd', 'capabilities', 'rlimits', 'noNewPrivileges', 'apparmorProfile', 'oomScoreAdj', 'selinuxLabel', 'ioPriority', 'scheduler', 'execCPUAffinity'];

function capList(path: string, v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return strings(path, v).map((c, i) => {
    const name = c.toUpperCase();
    if (!CAPABILITY_NAMES.includes(name)) bad(`${path}[${i}]`, `unknown capability ${JSON.stringify(c)} (capabilities(7))`);
    return name;
  });
}

function u64(path: string, v: unknown): bigint {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'bigint' && v >= 0n) return v;
  return bad(path, `must be a whole number ≥ 0, not ${JSON.stringify(v)}`);
}

/** Checks `process` (the path prefix is `process` unless an exec's process.json is read). */
export function checkProcess(v: unknown, prefix = 'process'): ProcessSpec {
  const p = object(prefix, v);
  known(prefix, p, KEYS);
  unsupported(`${prefix}.apparmorProfile`, p.apparmorProfile, 'this kernel’s AppArmor is not driven by nsk (no LSM support)');
  unsupported(`${prefix}.selinuxLabel`, p.selinuxLabel, 'nsk does not set SELinux labels');
  unsupported(`${prefix}.ioPriority`, p.ioPriority, 'ioprio_set is not planned by nsk yet');
  unsupported(`${prefix}.scheduler`, p.scheduler, 'sched_setattr is not planned by nsk yet');
  unsupported(`${prefix}.execCPUAffinity`, p.execCPUAffinity, 'sched_setaffinity is not planned by nsk yet');
  unsupported(`${prefix}.commandLine`, p.commandLine, 'Windows only');
  const args = strings(`${prefix}.args`, p.args ?? bad(`${prefix}.args`, 'required: the program and its arguments'));
  if (args.length === 0 || args[0] === '') bad(`${prefix}.args`, 'give at least the program');
  const env = p.env === undefined ? [] : strings(`${prefix}.env`, p.env);
  env.forEach((e, i) => { if (!/^[^=]+=/.test(e)) bad(`${prefix}.env[${i}]`, `not KEY=value: ${JSON.stringify(e)}`); });
  const cwd = absolute(`${prefix}.cwd`, p.cwd ?? '/');
  const terminal = bool(`${prefix}.terminal`, p.terminal, false);
  const cs = optObject(`${prefix}.consoleSize`, p.consoleSize);
  const consoleSize = cs ? { height: integer(`${prefix}.consoleSize.height`, cs.height, 0, 65535), width: integer(`${prefix}.consoleSize.width`, cs.width, 0, 65535) } : null;

  const u: Json = optObject(`${prefix}.user`, p.user) ?? {};
  known(`${prefix}.user`, u, ['uid', 'gid', 'umask', 'additionalGids', 'username']);
  unsupported(`${prefix}.user.username`, u.username, 'Windows only');
  const uid = integer(`${prefix}.user.uid`, u.uid ?? 0, 0, 0xfffffffe);
  const gid = integer(`${prefix}.user.gid`, u.gid ?? 0, 0, 0xfffffffe);
  const additionalGids = u.additionalGids === undefined ? [] : array(`${prefix}.user.additionalGids`, u.additionalGids).map((g, i) => integer(`${prefix}.user.additionalGids[${i}]`, g, 0, 0xfffffffe));
  const umask = optInteger(`${prefix}.user.umask`, u.umask, 0, 0o777) ?? null;

  const c: Json = optObject(`${prefix}.capabilities`, p.capabilities) ?? {};
  known(`${prefix}.capabilities`, c, ['bounding', 'effective', 'permitted', 'inheritable', 'ambient']);
  const capabilities: Capabilities = {
    bounding: capList(`${prefix}.capabilities.bounding`, c.bounding),
    effective: capList(`${prefix}.capabilities.effective`, c.effective),
    permitted: capList(`${prefix}.capabilities.permitted`, c.permitted),
    inheritable: capList(`${prefix}.capabilities.inheritable`, c.inheritable),
    ambient: capList(`${prefix}.capabilities.ambient`, c.ambient),
  };

  const seen = new Set<string>();
  const rlimits = (p.rlimits === undefined ? [] : array(`${prefix}.rlimits`, p.rlimits)).map((r, i) => {
    const f = `${prefix}.rlimits[${i}]`;
    const o = object(f, r);
    known(f, o, ['type', 'soft', 'hard']);
    const type = string(`${f}.type`, o.type);
    const resource = RLIMITS[type];
    if (resource === undefined) bad(`${f}.type`, `unknown limit ${JSON.stringify(type)} (getrlimit(2): ${Object.keys(RLIMITS).join(', ')})`);
    if (seen.has(type)) bad(`${f}.type`, `${type} is given twice`);
    seen.add(type);
    const soft = u64(`${f}.soft`, o.soft);
    const hard = u64(`${f}.hard`, o.hard);
    if (soft > hard) bad(`${f}.soft`, `the soft limit ${soft} is above the hard limit ${hard} (setrlimit(2) EINVAL)`);
    return { type, resource: resource!, soft, hard };
  });

  return {
    args, env, cwd, terminal, consoleSize, uid, gid, additionalGids, umask, capabilities, rlimits,
    noNewPrivileges: bool(`${prefix}.noNewPrivileges`, p.noNewPrivileges, false),
    oomScoreAdj: optInteger(`${prefix}.oomScoreAdj`, p.oomScoreAdj, -1000, 1000) ?? null,
  };
}
