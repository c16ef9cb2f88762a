// A compiled filter: the program, the policy it came from, and ways to ask
// it questions without installing it.
import { ValidationError } from '@nsk/syscall';
import { actionOf, type Action } from './action.ts';
import { AUDIT_ARCH, syscallNumber, type Arch } from './arch.ts';
import { emulate, type Emulation } from './bpf/emulate.ts';
import { encodeProgram } from './bpf/encode.ts';
import { explainProgram } from './bpf/explain.ts';
import type { Insn } from './bpf/opcodes.ts';
import { compilePolicy } from './compile/compile.ts';
import type { Policy } from './policy.ts';
import { parseProfile } from './profile/parse.ts';
import { resolveProfile, type ResolveOptions } from './profile/resolve.ts';
import type { SeccompProfile } from './profile/types.ts';

export class Filter {
  readonly program: readonly Insn[];
  readonly policy: Policy;

  constructor(policy: Policy) {
    this.policy = policy;
    this.program = Object.freeze(compilePolicy(policy));
  }

  /** Instructions in the program. */
  get length(): number {
    return this.program.length;
  }

  /** SECCOMP_FILTER_FLAG_* the profile asks for. */
  get flags(): number {
    return this.policy.flags;
  }

  /** The ABI of the first section: the machine the filter was made for. */
  get arch(): Arch {
    return this.policy.arches[0]!;
  }

  /** The program as `struct sock_filter[]` bytes. */
  bytes(): Uint8Array {
    return encodeProgram(this.program);
  }

  /** The program, one instruction a line, as seccomp-tools prints it. */
  explain(): string {
    return explainProgram(this.program);
  }

  /** Runs the program on one call (emulated): the return value, instructions run, words loaded. */
  run(nr: number, args: ReadonlyArray<bigint | number> = [], arch: Arch = this.arch): Emulation {
    return emulate(this.program, { nr, arch: AUDIT_ARCH[arch], args });
  }

  /** What the filter does to `name(args…)` on `arch`: `{kind: 'errno', data: 1}`. */
  verdict(name: string, args: ReadonlyArray<bigint | number> = [], arch: Arch = this.arch): Action {
    const nr = syscallNumber(name, arch);
    if (nr === undefined) throw new ValidationError('name', `${arch} has no system call ${JSON.stringify(name)}`);
    return actionOf(this.run(nr, args, arch).ret);
  }
}

export type CompileOptions = ResolveOptions;

/**
 * Compiles an OCI `linux.seccomp` object or a Docker profile (an object, or
 * its JSON text) for this machine. Throws a ValidationError naming the JSON
 * path of the first problem.
 */
export function compile(profile: SeccompProfile | string, options: CompileOptions = {}): Filter {
  const p = typeof profile === 'string' ? parseProfile(profile) : profile;
  return new Filter(resolveProfile(p, options));
}
