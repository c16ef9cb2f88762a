// The ways an image can be refused or missed, each its own class so callers
// can tell "not there" from "not what it claimed to be".
import { NskError } from '@nsk/syscall';

/** No image answers to `ref` in the store. */
export class ImageNotFoundError extends NskError {
  readonly ref: string;
  constructor(ref: string, store: string) {
    super(`no image ${JSON.stringify(ref)} in the store at ${store} (nsk images lists them)`, 'ERR_NSK_IMAGE_NOT_FOUND');
    this.ref = ref;
  }
}

/**
 * A blob's bytes do not hash to the digest its manifest (or the config's
 * diff_ids) gives; nothing was stored. One class for the whole package
 * (registry pulls throw it too): `what` names the blob and where it came
 * from, `expected` and `actual` the digests (or sizes).
 */
export { DigestMismatchError } from '../registry/index.ts';
import { DigestMismatchError } from '../registry/index.ts';

/** A DigestMismatchError naming the blob's kind and its source; `cause` what the bad bytes broke first. */
export function digestMismatch(kind: string, expected: string, actual: string, source: string, cause?: unknown): DigestMismatchError {
  const e = new DigestMismatchError(`${kind} ${source} (nothing was stored)`, expected, actual);
  if (cause !== undefined) Object.defineProperty(e, 'cause', { value: cause, configurable: true, writable: true });
  return e;
}

/** An archive or layout that is not a valid image (a missing member, bad JSON, an unknown media type…). */
export class ImageFormatError extends NskError {
  /** The archive or directory. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`, 'ERR_NSK_IMAGE_FORMAT');
    this.path = path;
  }
}

/** The container id already has a directory in the store: another container uses it. */
export class ContainerExistsError extends NskError {
  readonly containerId: string;
  constructor(containerId: string, dir: string) {
    super(`container ${containerId} already has ${dir} (another container of this id is running, or its cleanup did not run: remove it)`, 'ERR_NSK_CONTAINER_EXISTS');
    this.containerId = containerId;
  }
}
