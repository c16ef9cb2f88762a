// Content addresses. image-spec descriptor.md: a digest is
// "algorithm:encoded"; nsk stores and accepts sha256 only (the registered
// algorithm every image and registry uses), lower-case hex.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

const SHA256 = /^sha256:([0-9a-f]{64})$/;

/** The hex part of a "sha256:<64 hex>" digest, or null when it is not one. */
export function digestHex(digest: unknown): string | null {
  return typeof digest === 'string' ? (SHA256.exec(digest)?.[1] ?? null) : null;
}

/** "sha256:<hex>" of `bytes`. */
export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A running sha256 and byte count over everything that passes through `pipe()`. */
export class Hasher {
  readonly #hash: Hash = createHash('sha256');
  bytes = 0;
  #digest: string | undefined;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
  }

  /** "sha256:<hex>"; ends the hash (call once all bytes passed). */
  digest(): string {
    this.#digest ??= `sha256:${this.#hash.digest('hex')}`;
    return this.#digest;
  }

  /** A pass-through stream that hashes what flows through it. */
  stream(onChunk?: (bytes: number) => void): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) => {
        this.update(chunk);
        onChunk?.(this.bytes);
        done(null, chunk);
      },
    });
  }
}
