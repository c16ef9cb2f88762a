export { Plan, type StepOptions, type FdRef } from './plan/plan.ts';
export { type Step, type Arg, type Pointer, str, num, bytes, strv, NULL } from './plan/step.ts';
export { encodePlan, encodedSize, type EncodeOptions } from './plan/encode.ts';
export { spawn, explainSpawn, Child, type SpawnOptions, type ExitStatus } from './spawn.ts';
export { type Feature, type ChildInfo } from './feature.ts';
export { NAMESPACE_FLAGS, namespaceFlags, type NamespaceName } from './namespaces.ts';
export { trampolineBytes } from './trampoline/index.ts';
export { liveChildren } from './reaper.ts';
export { NskError, SyscallError, ValidationError } from '@nsk/syscall';
