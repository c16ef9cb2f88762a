// @nsk/container: a container from the nsk packages, composed in the
// kernel's order with the defaults a Docker user expects.
export { type ContainerSpec } from './spec.ts';
export { type ContainerState, type NetworkState } from './state.ts';
export { prepare, Prepared } from './prepare.ts';
export { start, run, type Container } from './start.ts';
export { exec, type ExecOptions, type ExecProcess } from './exec.ts';
export { DEFAULT_CAPABILITIES, CAPABILITY_NAMES, capabilityName, capabilityNames, chooseCapabilities } from './capabilities.ts';
export { setTerminalSize, type TerminalSize } from './pty.ts';
export { cleanupState, pendingState, type CleanupTarget, type CleanupOptions, type CleanupReport } from './cleanup-state.ts';
export { type ImageStoreLike, type ImageConfigLike, type PreparedImageRootfs } from './image.ts';
export type { ExitStatus } from '@nsk/clone';
export { openTerminal, terminalFeatures, type Terminal, type TerminalFeatures } from './pty.ts';
export { searchPath, pathSearch, type ProgramSearch } from './path-search.ts';
