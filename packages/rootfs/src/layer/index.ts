export { extractTar, DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, type ExtractOptions, type ExtractResult } from './extract.ts';
export { decompress, sniffCompression, type Compression } from './decompress.ts';
export { UnsafeArchiveError } from './errors.ts';
