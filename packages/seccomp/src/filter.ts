// A compiled filter: the program, the policy it came from, and ways to ask
// it questions without installing it.
import { ValidationError } from '@nsk/syscall';
import { actionOf, type Action, type ActionKind } from './action.ts';
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

/**
 * A program compiled ahead of time (default-filter.ts), with what
 * checkInstallable reads; its policy is resolved only if someone asks.
 */
export interface Precompiled {
  readonly program: readonly Insn[];
  readonly arches: readonly Arch[];
  readonly flags: number;
  /** The kinds of the policy's default action and of its rules' actions. */
  readonly actionKinds: readonly ActionKind[];
  readonly resolve: () => Policy;
}

export class Filter {
  readonly program: readonly Insn[];
  /** SECCOMP_FILTER_FLAG_* the profile asks for. */
  readonly flags: number;
  /** The ABIs the filter has a section for, the machine's first. */
  readonly arches: readonly Arch[];
  /** The kinds of the policy's default action and of its rules' actions. */
  readonly actionKinds: readonly ActionKind[];
  #policy: Policy | undefined;
  #resolve: (() => Policy) | undefined;
  #bytes: Uint8Array | undefined;

  constructor(source: Policy | Precompiled) {
    if ('resolve' in source) {
      this.#resolve = source.resolve;
      this.program = Object.freeze([...source.program]);
      this.arches = source.arches;
      this.flags = source.flags;
      this.actionKinds = source.actionKinds;
    } else {
      this.#policy = source;
      this.program = Object.freeze(compilePolicy(source));
      this.arches = source.arches;
      this.flags = source.flags;
      this.actionKinds = [...new Set([source.defaultAction.kind, ...source.rules.map((r) => r.action.kind)])];
    }
  }

  /** The resolved policy the program was compiled from. */
  get policy(): Policy {
    return (this.#policy ??= this.#resolve!());
  }

  /** Instructions in the program. */
  get length(): number {
    return this.program.length;
  }

  /** The ABI of the first section: the machine the filter was made for. */
  get arch(): Arch {
    return this.arches[0]!;
  }

  /** The program as `struct sock_filter[]` bytes. */
  bytes(): Uint8Array {
    // Encoded once (the program is frozen); each caller gets its own copy.
    return (this.#bytes ??= encodeProgram(this.program)).slice();
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
