export { Cgroup } from './cgroup.ts';
export { prepareCgroup, type CgroupOptions, type PreparedCgroup } from './prepare.ts';
export { planLimits, resourceSide, V1_CONTROLLER, V2_CONTROLLER, type LimitPlan } from './route.ts';
export { cgroup, type CgroupFeature, type CgroupFeatureOptions } from './feature.ts';
export { detectLayout, restrictLayout, parseCgroupMounts, parseProcCgroup, layoutOf, type Layout, type V1Hierarchy, type V2Hierarchy, type ProcCgroup } from './layout.ts';
export { validateLimits, parseCpuList, hostTopology, type Limits, type CpuLimits, type CpusetLimits, type MemoryLimits, type PidsLimits, type IoLimits, type Resource, type HostTopology } from './limits.ts';
export { v1Files, v2Files, weightToShares, sharesToWeight, ioWeightToBfq, formatCpuMax, parseCpuMax, parseKeyed, v1Stats, v2Stats, type CgroupStats, type FileWrite } from './format.ts';
export { enableControllers } from './v2.ts';
export { CgroupUnavailableError, CgroupDelegationError, CgroupTimeoutError } from './errors.ts';
