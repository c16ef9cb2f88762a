export { busyboxRootfs, findBusybox, isStaticElf, BUSYBOX_PATHS } from './busybox.ts';
export { hostRootfs, hostRootfsFiles, findBinary, type HostRootfsOptions, type HostFiles } from './host.ts';
export { readElf, parseElf, ElfError, type Elf, type ElfClass, type ElfEndian, type ElfType, type ElfErrorReason } from './elf.ts';
export { ldd, formatLdd, LibrarySearch, LibraryNotFoundError, type LddOptions, type LddResult, type SharedObject, type FoundVia } from './elf-resolve.ts';
export { readLdCache, parseLdCache, readLdSoConf, systemDirs, type LdCacheEntry } from './elf-ld-cache.ts';
export * from './layer/index.ts';
export * from './image/index.ts';
export * from './registry/index.ts';
