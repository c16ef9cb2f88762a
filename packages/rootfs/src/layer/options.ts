// The options of extractTar() and what it returns, checked before anything
// is read or created.
import { ValidationError } from '@nsk/syscall';

export interface ExtractOptions {
  /** 'overlay': whiteouts are stored as overlayfs whiteouts (char dev 0:0 for
   *  `.wh.NAME`, xattr trusted.overlay.opaque=y for `.wh..wh..opq`) so the
   *  directory can be an overlay lower layer. 'apply': the whiteout deletes
   *  its target in `root` (flattening layers into one directory). */
  whiteouts: 'overlay' | 'apply';
  /** Host uid/gid = entry's id + shift (rootless maps). Default 0/0. */
  idShift?: { uid: number; gid: number };
  /** Tar-bomb limits. Defaults: 64 GiB total, 1 000 000 entries. */
  limits?: { maxBytes?: number; maxEntries?: number };
  /** Called after each chunk with the tar bytes read so far. (Device nodes:
   *  created when root (CAP_MKNOD), else skipped and reported in `skipped`.) */
  onProgress?: (bytesRead: number) => void;
}

export interface ExtractResult {
  /** Entries read (every header that names a file, directory, link, node or whiteout). */
  entries: number;
  /** Bytes of regular-file data written. */
  bytes: number;
  /** What was not created, and why (device nodes without CAP_MKNOD, xattrs the filesystem refused, …). */
  skipped: { path: string; reason: string }[];
}

export const DEFAULT_MAX_BYTES = 64 * 2 ** 30;
export const DEFAULT_MAX_ENTRIES = 1_000_000;
/** (uid_t)-1 means "leave unchanged" to chown(2): the largest id is one less. */
export const MAX_ID = 0xfffffffe;

/** The options, checked and with their defaults filled in. */
export interface Options {
  whiteouts: 'overlay' | 'apply';
  uidShift: number;
  gidShift: number;
  maxBytes: number;
  maxEntries: number;
  onProgress: ((bytesRead: number) => void) | undefined;
}

/** Checks `root` and `opts`; throws ValidationError naming the bad field. */
export function validate(root: unknown, opts: ExtractOptions | undefined): Options {
  if (typeof root !== 'string' || root === '') throw new ValidationError('root', 'must be a directory path');
  if (opts === null || typeof opts !== 'object') throw new ValidationError('options', 'must be an object with `whiteouts`');
  if (opts.whiteouts !== 'overlay' && opts.whiteouts !== 'apply') throw new ValidationError('whiteouts', `must be 'overlay' or 'apply', not ${JSON.stringify(opts.whiteouts)}`);
  const id = (field: string, v: unknown) => {
    if (v === undefined) return 0;
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_ID) throw new ValidationError(field, `must be an integer from 0 to ${MAX_ID}`);
    return v as number;
  };
  const positive = (field: string, v: unknown, dflt: number) => {
    if (v === undefined) return dflt;
    if (!Number.isSafeInteger(v) || (v as number) <= 0) throw new ValidationError(field, 'must be a positive integer');
    return v as number;
  };
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') throw new ValidationError('onProgress', 'must be a function');
  return {
    whiteouts: opts.whiteouts,
    uidShift: id('idShift.uid', opts.idShift?.uid),
    gidShift: id('idShift.gid', opts.idShift?.gid),
    maxBytes: positive('limits.maxBytes', opts.limits?.maxBytes, DEFAULT_MAX_BYTES),
    maxEntries: positive('limits.maxEntries', opts.limits?.maxEntries, DEFAULT_MAX_ENTRIES),
    onProgress: opts.onProgress,
  };
}

