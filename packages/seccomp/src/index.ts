// @nsk/seccomp: seccomp-bpf from Node. A classic-BPF assembler, system call
// tables, a compiler for OCI and Docker profiles, and the plan steps that
// install a filter as a container's last act before execve(2).
export { compile, Filter, type CompileOptions, type Precompiled } from './filter.ts';
export { seccomp, planSeccomp, checkInstallable, availableActions, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG, type InstallOptions, type SeccompFeatureOptions } from './install.ts';
export { defaultProfile, DEFAULT_PROFILE_PATH } from './default-profile.ts';
export { compileDefault, type DefaultFilterOptions } from './default-filter.ts';
export { parseProfile } from './profile/parse.ts';
export { resolveProfile, DEFAULT_CAPABILITIES, FILTER_FLAGS, type ResolveOptions } from './profile/resolve.ts';
export type { SeccompProfile, SeccompSyscall, SeccompArg, SeccompFilterCond, SeccompArchMap, Uint64 } from './profile/types.ts';
export { OPERATORS, holds, type Policy, type Rule, type Condition, type Operator } from './policy.ts';
export { RET, SCMP_ACTIONS, actionValue, actionOf, showAction, type Action, type ActionKind } from './action.ts';
export { AUDIT_ARCH, X32_SYSCALL_BIT, syscallNumber, syscallName, syscallTable, isKnownSyscall, maxSyscall, type Abi, type Arch } from './arch.ts';
export { compilePolicy, longestPath, FOREIGN } from './compile/compile.ts';
export { aboveAction } from './compile/verdicts.ts';
export { Asm, Label, type Target } from './bpf/asm.ts';
export { assemble, disassemble } from './bpf/text.ts';
export { explainProgram } from './bpf/explain.ts';
export { emulate, cachedAllow, type Emulation } from './bpf/emulate.ts';
export { checkProgram } from './bpf/check.ts';
export { encodeProgram, decodeProgram } from './bpf/encode.ts';
export type { Insn } from './bpf/opcodes.ts';
export { OFF_NR, OFF_ARCH, OFF_IP, OFF_ARGS, argOffset, type SeccompData } from './seccomp-data.ts';
export { takeListener, findListener, Listener, type Notification, type Answer } from './notify.ts';
