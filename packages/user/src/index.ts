export { user, planIds, type UserFeature } from './user.ts';
export { resolveMapping, subordinateMap, type UserOptions, type MapSource, type Mapping, type MapWriter } from './mapping.ts';
export {
  readIdMap, parseIdMap, formatIdMap, checkIdMap, toOutside, toInside, MAX_MAP_LINES,
  type IdRange, type IdMap, type IdKind,
} from './id-map.ts';
export { subordinateIds, parseSubordinate, type SubordinateIds, type SubordinateRange, type SubordinateFiles } from './subordinate.ts';
export { currentCaller, type Caller } from './caller.ts';
export { writeIdMap, denySetgroups } from './write-map.ts';
export { findMapper, runMapper, IdMapperError, type IdMapper } from './newidmap.ts';
