// One layer from its blob to a directory: the blob's bytes hashed as they
// stream in (its digest), decompressed, hashed again (its diff id), and
// unpacked with overlayfs whiteouts so the directory can be a lowerdir.
// Both hashes are only known at the end, so the directory is a temporary
// one the caller throws away unless both match.
import type { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { decompress, extractTar, type ExtractResult } from '../layer/index.ts';
import { digestMismatch } from './errors.ts';
import { Hasher } from './digest.ts';
import type { LayerSource } from './types.ts';

export interface Unpacked extends ExtractResult {
  /** sha256 of the blob as stored. */
  digest: string;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Bytes of the blob read. */
  blobBytes: number;
}

/**
 * The chunks of `stream`, each hashed, as an iterable whose `return()` does
 * not close the stream: whatever the extractor leaves unread (the padding
 * after tar's end-of-archive blocks) is still read and hashed afterwards.
 */
function hashedChunks(stream: NodeJS.ReadableStream, hasher: Hasher): { chunks: AsyncIterable<Uint8Array>; drain(): Promise<void> } {
  const it = (stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const next = async (): Promise<IteratorResult<Uint8Array>> => {
    const r = await it.next();
    if (!r.done) hasher.update(r.value);
    return r;
  };
  return {
    chunks: { [Symbol.asyncIterator]: () => ({ next, return: async () => ({ done: true, value: undefined }) }) },
    drain: async () => { while (!(await next()).done); },
  };
}

/**
 * Unpacks `source` into `dir` (an existing empty directory). Throws
 * DigestMismatchError when the blob is not `source.digest` (or
 * `source.size` bytes), or its tar is not `diffId`.
 */
export async function unpackLayer(source: LayerSource, dir: string, diffId: string, onBytes?: (blobBytes: number) => void): Promise<Unpacked> {
  const blob = new Hasher();
  const tar = new Hasher();
  const input = await source.open();
  const counted = blob.stream(onBytes);
  input.on('error', (e: Error) => counted.destroy(e));
  input.pipe(counted);
  const what = `${source.digest} (${source.mediaType})`;
  let result: ExtractResult;
  try {
    result = await unpack(counted, tar, dir);
  } catch (err) {
    // Corrupt bytes often break the tar or the decompressor before the
    // digest can be compared: read the rest, and when the blob is not the
    // one named, say that (the cause) rather than what it broke.
    try {
      counted.unpipe();
      if (!counted.readableEnded) await finished(counted.resume());
    } catch { /* the blob could not be read to its end: report the first error */ }
    if (counted.readableEnded && blob.digest() !== source.digest) throw digestMismatch('layer', source.digest, blob.digest(), what, err);
    throw err;
  } finally {
    // A source given up halfway (a file stream, a socket) is closed now, not when collected.
    const s = input as NodeJS.ReadableStream & { destroy?: () => void; readableEnded?: boolean };
    if (s.readableEnded === false) s.destroy?.();
  }
  if (blob.digest() !== source.digest) throw digestMismatch('layer', source.digest, blob.digest(), what);
  if (source.size !== undefined && blob.bytes !== source.size) throw digestMismatch('layer size', `${source.size} bytes`, `${blob.bytes} bytes`, what);
  if (tar.digest() !== diffId) throw digestMismatch('layer diff id', diffId, tar.digest(), `${what}, uncompressed`);
  return { ...result, digest: blob.digest(), diffId, blobBytes: blob.bytes };
}

/** Decompresses and unpacks `counted` into `dir`, hashing the tar into `tar`; reads both streams to their ends. */
async function unpack(counted: Transform, tar: Hasher, dir: string): Promise<ExtractResult> {
  const { chunks, drain } = hashedChunks(decompress(counted), tar);
  const result = await extractTar(chunks, dir, { whiteouts: 'overlay' });
  await drain();
  if (!counted.readableEnded) await finished(counted.resume());
  return result;
}
