// @nsk/oci: nsk as an OCI runtime (runc's command line over config.json).
export { checkConfig, loadConfig, type OciSpec } from './config/index.ts';
export { create, type CreateOptions } from './commands/create.ts';
export { start, state, kill, remove, list, ps, pause, signalNumber } from './commands/lifecycle.ts';
export { exec, type ExecOptions } from './commands/exec.ts';
export { features } from './commands/features.ts';
export { DEFAULT_ROOT, type Saved, type Status } from './runtime/state.ts';
export type { Global } from './commands/context.ts';
