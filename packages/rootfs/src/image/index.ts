export { ImageStore } from './store.ts';
export { defaultStoreRoot } from './store-root.ts';
// DigestMismatchError: one class for the package, exported by the registry's barrel.
export { ImageNotFoundError, ImageFormatError, ContainerExistsError } from './errors.ts';
export { parseImageConfig, hostPlatform, type ParsedConfig } from './config.ts';
export { checkName, withTag } from './names.ts';
export type { ImageConfig, LayerSource, Image, StoreOptions, Progress, AddImageInput, PreparedRootfs } from './types.ts';
