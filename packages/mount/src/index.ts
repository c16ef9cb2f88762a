export { rootfs, planPivotRoot, type RootfsOptions } from './pivot-root.ts';
export { planProc } from './proc.ts';
export { planDev, DEVICES } from './dev.ts';
export { parseMountInfo, readMountInfo, type MountInfo } from './mountinfo.ts';
