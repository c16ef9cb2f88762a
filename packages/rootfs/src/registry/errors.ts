// What can go wrong talking to a registry, one class per cause a caller may
// want to handle. The registry's own error JSON (distribution-spec, "Error
// Codes": {"errors":[{"code","message","detail"}]}) is kept on `codes`.
import { NskError, ValidationError } from '@nsk/syscall';

/** One entry of a registry's `{"errors": [...]}` body. */
export interface RegistryErrorBody { code: string; message?: string; detail?: unknown }

/** A registry answered with an error status. `status` is the HTTP status, `codes` the spec's error codes ("MANIFEST_UNKNOWN"). */
export class RegistryError extends NskError {
  readonly url: string;
  readonly status: number;
  readonly codes: readonly string[];
  constructor(message: string, init: { url: string; status: number; errors?: readonly RegistryErrorBody[]; code?: string; cause?: unknown }) {
    const errs = init.errors ?? [];
    const said = errs.map((e) => e.message ? `${e.code}: ${e.message}` : e.code).join('; ');
    super(`${message} (${init.url}: HTTP ${init.status}${said ? `, ${said}` : ''})`, init.code ?? 'ERR_NSK_REGISTRY', init.cause === undefined ? undefined : { cause: init.cause });
    this.url = init.url;
    this.status = init.status;
    this.codes = errs.map((e) => e.code);
  }
}

/** The tag or digest (or the whole repository: NAME_UNKNOWN) is not in the registry. */
export class ManifestUnknownError extends RegistryError {
  readonly reference: string;
  constructor(reference: string, init: { url: string; status: number; errors?: readonly RegistryErrorBody[] }) {
    super(`${reference}: manifest unknown`, { ...init, code: 'ERR_NSK_MANIFEST_UNKNOWN' });
    this.reference = reference;
  }
}

/** The registry (or its token server) refused us: no or bad credentials, or no pull right on the repository. */
export class UnauthorizedError extends RegistryError {
  constructor(what: string, init: { url: string; status: number; errors?: readonly RegistryErrorBody[] }, why?: string) {
    super(`${what}: unauthorized${why ? ` — ${why}` : ''}`, { ...init, code: 'ERR_NSK_UNAUTHORIZED' });
  }
}

export interface Platform { os: string; architecture: string; variant?: string }

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** A multi-platform image has no manifest for the platform asked for; `offered` lists what it has. */
export class NoMatchingPlatformError extends NskError {
  readonly reference: string;
  readonly wanted: Platform;
  readonly offered: readonly Platform[];
  constructor(reference: string, wanted: Platform, offered: readonly Platform[]) {
    super(`${reference}: no manifest for ${formatPlatform(wanted)}; the image offers ${offered.length ? offered.map(formatPlatform).join(', ') : 'no platforms'}`, 'ERR_NSK_NO_MATCHING_PLATFORM');
    this.reference = reference;
    this.wanted = wanted;
    this.offered = offered;
  }
}

/** Bytes that do not hash to the digest that names them (a manifest pulled by digest, a config blob). */
export class DigestMismatchError extends NskError {
  readonly expected: string;
  readonly actual: string;
  readonly what: string;
  constructor(what: string, expected: string, actual: string) {
    super(`${what}: content digest is ${actual}, expected ${expected}`, 'ERR_NSK_DIGEST_MISMATCH');
    this.what = what;
    this.expected = expected;
    this.actual = actual;
  }
}

/** A manifest this puller cannot use: schema 1, an artifact that is not a container image, malformed JSON. */
export class UnsupportedManifestError extends NskError {
  readonly reference: string;
  readonly mediaType: string;
  constructor(reference: string, mediaType: string, why: string) {
    super(`${reference}: ${why}${mediaType ? ` (${mediaType})` : ''}`, 'ERR_NSK_UNSUPPORTED_MANIFEST');
    this.reference = reference;
    this.mediaType = mediaType;
  }
}

/** A reference that does not follow the distribution reference grammar ("Busybox", "a//b", "x:tag with space"). */
export class InvalidReferenceError extends ValidationError {
  readonly reference: string;
  constructor(reference: string, why: string) {
    super('ref', `${JSON.stringify(reference)} is not an image reference: ${why}`);
    this.reference = reference;
  }
}
