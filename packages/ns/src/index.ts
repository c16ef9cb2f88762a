export { inspect, inspectFile, compare, sameNamespace, type NamespaceId, type ProcessNamespaces, type Comparison } from './inspect.ts';
export { list, type NamespaceEntry, type ListOptions } from './list.ts';
export { persist, unpersist, persistDir, prepareDir, type PersistOptions, type Persisted } from './persist.ts';
export { enter, type EnterOptions } from './enter.ts';
export { joinNamespaces, JOIN_ORDER, type JoinOptions, type JoinFeature, type Joined } from './join.ts';
export { parseNsfsMounts, type NsfsMount } from './nsfs-mounts.ts';
export { NAMESPACE_TYPES, NS_FILE, NS_FLAG, type NamespaceType } from './types.ts';
