// Which seccomp filter the container gets: @nsk/seccomp's default profile,
// none ('unconfined'), a profile file or a parsed profile.
//
// Docker's profiles depend on the capabilities (includes/excludes by
// `caps`: with CAP_SYS_ADMIN the administrator's calls come back), so a
// profile is compiled for the container's kept set. Compiling a profile
// takes milliseconds; containers with the same profile and capabilities
// share one compiled filter, and the default profile's programs were
// compiled ahead of time (@nsk/seccomp's compileDefault).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ValidationError } from '@nsk/syscall';
import { PR } from '@nsk/syscall';
import { num, type Feature, type Plan } from '@nsk/clone';
import { checkInstallable, compile, compileDefault, planSeccomp, type Filter } from '@nsk/seccomp';

export interface SeccompChoice {
  /**
   * What ContainerState.seccomp records, enough to install the same filter
   * again (exec): 'default', 'unconfined', or the profile's JSON text.
   */
  label: string;
  /** Null for 'unconfined'. */
  filter: Filter | null;
}

const cache = new Map<string, Filter>();
const CACHE_SIZE = 16;

function compiled(key: string, make: () => Filter): Filter {
  let f = cache.get(key);
  if (f) return f;
  f = make();
  checkInstallable(f);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, f);
  return f;
}

function toJson(profile: object): string {
  // 64-bit argument values may be BigInt (parseProfile keeps them exact).
  const raw = (JSON as unknown as { rawJSON?: (s: string) => unknown }).rawJSON;
  return JSON.stringify(profile, (_k, v: unknown) => (typeof v === 'bigint' ? (raw ? raw(v.toString()) : Number(v)) : v));
}

/**
 * The filter for `value` (default 'default'), compiled for `capabilities`.
 * A ValidationError names `field` when the profile is unreadable or wrong.
 */
export function chooseSeccomp(value: unknown, capabilities: readonly string[], field = 'seccomp'): SeccompChoice {
  const caps = capabilities.join(',');
  const v = value ?? 'default';
  if (v === 'unconfined') return { label: 'unconfined', filter: null };
  if (v === 'default') return { label: 'default', filter: compiled(`default|${caps}`, () => compileDefault({ capabilities })) };
  let text: string;
  if (typeof v === 'string') {
    if (v.trimStart().startsWith('{')) text = v;
    else {
      try {
        text = readFileSync(resolve(v), 'utf8');
      } catch (err) {
        throw new ValidationError(field, `cannot read the profile ${v}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
  } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    text = toJson(v);
  } else {
    throw new ValidationError(field, `'default', 'unconfined', a profile file or a profile object; got ${String(v)}`);
  }
  try {
    // Profiles written for every architecture and the newest kernels
    // (Docker's own) name calls our tables lack; Docker skips those too.
    const filter = compiled(`${text}|${caps}`, () => compile(text, { capabilities, unknownSyscalls: 'ignore' }));
    return { label: text, filter };
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(`${field}.${err.field}`, err.message.slice(err.field.length + 2));
    throw err;
  }
}

/**
 * The container's last steps before execve: no_new_privs, then the filter
 * (planSeccomp); no_new_privs alone for 'unconfined' — it stays on either
 * way (prctl(2): execve then grants no privileges, setuid bits nor file
 * capabilities).
 */
export function seccompFeature(choice: SeccompChoice): Feature {
  const filter = choice.filter;
  if (filter) return { name: 'seccomp', plan: (plan: Plan) => planSeccomp(plan, filter) };
  return {
    name: 'no-new-privs',
    plan: (plan: Plan) => {
      plan.add('prctl', [num(PR.SET_NO_NEW_PRIVS, 'PR_SET_NO_NEW_PRIVS'), num(1), num(0), num(0), num(0)], 'set no_new_privs: execve never grants privileges (setuid bits, file capabilities)');
    },
  };
}
