export { pid, planMountProc, type PidOptions } from './feature.ts';
export { nsPids, innerPid, outerPid, pidNamespaceOf, processesInNamespaceOf, parentPid } from './nspid.ts';
