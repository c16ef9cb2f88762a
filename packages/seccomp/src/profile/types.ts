// The two profile formats we read. Docker's (moby's profiles/seccomp) is the
// OCI runtime-spec `linux.seccomp` object plus archMap, includes/excludes
// and comments, so one set of types covers both.

/** A number as JSON gives it; integers beyond 2^53 arrive as bigint (parseProfile) or as a string. */
export type Uint64 = number | bigint | string;

/** One argument comparison: `args[index] <op> value` (MASKED_EQ: `(args[index] & value) == valueTwo`). */
export interface SeccompArg {
  index: number;
  value: Uint64;
  valueTwo?: Uint64;
  op: string;
}

/** When a Docker rule applies: every listed cap present, the arch listed, the kernel at least minKernel. */
export interface SeccompFilterCond {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface SeccompSyscall {
  names?: string[];
  /** Docker's older, single-name spelling. */
  name?: string;
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilterCond;
  excludes?: SeccompFilterCond;
}

export interface SeccompArchMap {
  architecture: string;
  subArchitectures?: string[] | null;
}

/** The OCI `linux.seccomp` object, or a Docker seccomp profile. */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: SeccompArchMap[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: SeccompSyscall[];
}
