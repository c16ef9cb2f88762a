export { checkConfig, loadConfig, type OciSpec } from './spec.ts';
export { checkProcess, type ProcessSpec, type Capabilities, type Rlimit } from './process.ts';
export type { MountSpec, RootSpec } from './mounts.ts';
export type { NamespaceSpec } from './namespaces.ts';
export { deviceRuleText, type ResourcesSpec, type DeviceRule } from './resources.ts';
export type { DeviceSpec } from './devices.ts';
export type { Hook, Hooks, HookPoint } from './hooks.ts';
