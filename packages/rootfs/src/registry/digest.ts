// Content addressing: a digest is "algorithm:hex" of the bytes exactly as
// stored (OCI image-spec, descriptor.md "Digests").
import { createHash } from 'node:crypto';
import { DigestMismatchError } from './errors.ts';
import { DIGEST, DIGEST_HEX } from './reference.ts';

/** True when `digest` is one we can verify (sha256 or sha512, right length). */
export function isDigest(digest: unknown): digest is string {
  if (typeof digest !== 'string' || !DIGEST.test(digest)) return false;
  const [algorithm, hex] = digest.split(':') as [string, string];
  return DIGEST_HEX[algorithm] === hex.length && /^[a-f0-9]+$/.test(hex);
}

export function digestOf(bytes: Uint8Array, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Throws DigestMismatchError unless `bytes` hash to `expected`. */
export function verifyDigest(what: string, bytes: Uint8Array, expected: string): void {
  const algorithm = expected.slice(0, expected.indexOf(':'));
  const actual = digestOf(bytes, algorithm);
  if (actual !== expected) throw new DigestMismatchError(what, expected, actual);
}
