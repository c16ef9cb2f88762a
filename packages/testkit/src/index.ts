export { capture, type Capture } from './capture.ts';
export { run, sh, type RunResult } from './run.ts';
export { hostState, leftSince, mountPoints, childrenOfThisProcess, openFds, entries, processesWith, type HostState } from './leftovers.ts';
export { testRootfs, rootMap } from './rootfs.ts';

export { nsInode } from './ns.ts';
export { runAsUser, runFixture, repositoryRoot, type AsUserOptions, type AsUserResult } from './as-user.ts';
