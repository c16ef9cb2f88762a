// The default profile, compiled. In a fresh process V8 runs the compiler
// unoptimised, and compiling profiles/default.json took ~20 ms of the first
// container's start (`nsk run`). So the programs are compiled ahead of time
// (default-filter.generated.ts, written by scripts/gen-default-filter.ts)
// for each combination of what the profile looks at: the architecture, the
// capabilities it names in includes/excludes, and its minKernel versions.
// They are used only while profiles/default.json is still, byte for byte,
// the text they were compiled from (callers may edit the file); otherwise,
// and for any combination not made ahead, the profile is compiled now.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { hostArch } from '@nsk/syscall';
import type { Arch } from './arch.ts';
import { decodeProgram } from './bpf/encode.ts';
import { DEFAULT_PROFILE_PATH } from './default-profile.ts';
import { compile, Filter } from './filter.ts';
import { parseProfile } from './profile/parse.ts';
import { DEFAULT_CAPABILITIES, resolveProfile } from './profile/resolve.ts';
import { precompiledKey } from './precompiled-key.ts';
import { MENTIONED_CAPS, MIN_KERNELS, PROFILE_TEXT, PROGRAMS } from './default-filter.generated.ts';

export interface DefaultFilterOptions {
  /** The container's capabilities (default: Docker's 14). */
  capabilities?: readonly string[];
  /** Default: this machine's. */
  arch?: Arch;
  /** The kernel release for minKernel. Default: this machine's (uname -r). */
  kernel?: string;
}

/** The filter of the default profile whose text is `text`: precompiled when that text is the one compiled ahead. */
export function defaultFilterFrom(text: string, o: DefaultFilterOptions = {}): Filter {
  const options = { capabilities: o.capabilities ?? DEFAULT_CAPABILITIES, arch: o.arch ?? hostArch, kernel: o.kernel ?? release() };
  if (text === PROFILE_TEXT) {
    const made = PROGRAMS[precompiledKey(options.arch, options.capabilities, options.kernel, MENTIONED_CAPS, MIN_KERNELS)];
    if (made) {
      return new Filter({
        program: decodeProgram(Buffer.from(made.program, 'base64')),
        arches: made.arches,
        flags: made.flags,
        actionKinds: made.actionKinds,
        resolve: () => resolveProfile(parseProfile(text), options),
      });
    }
  }
  return compile(text, options);
}

/**
 * The default profile (profiles/default.json, read now) compiled for
 * `capabilities` on this machine: equal to
 * `compile(defaultProfile(), { capabilities })`, without the compile when
 * it was done ahead of time.
 */
export function compileDefault(o: DefaultFilterOptions = {}): Filter {
  return defaultFilterFrom(readFileSync(DEFAULT_PROFILE_PATH, 'utf8'), o);
}
