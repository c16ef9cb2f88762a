// A flat filesystem tarball (`docker export`, or `tar -C rootfs -c .`): the
// whole tree in one tar, plain or compressed, with no config. It becomes a
// one-layer image whose config nsk writes (see flatConfig). Its digests are
// computed by reading it once before it is unpacked.
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { decompress } from '../layer/index.ts';
import { Hasher } from './digest.ts';
import { flatConfig } from './config.ts';

/** The layer media type for the file's magic bytes (the bytes are sniffed again when unpacked). */
function mediaTypeOf(path: string): string {
  const b = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try { readSync(fd, b, 0, 4, 0); } finally { closeSync(fd); }
  if (b[0] === 0x1f && b[1] === 0x8b) return 'application/vnd.oci.image.layer.v1.tar+gzip';
  if (b.readUInt32LE(0) === 0xfd2fb528) return 'application/vnd.oci.image.layer.v1.tar+zstd';
  return 'application/vnd.oci.image.layer.v1.tar';
}
import type { ImportItem } from './import-item.ts';

/** The sha256 of the file and of its decompressed tar, in one read. */
async function digests(path: string): Promise<{ digest: string; diffId: string }> {
  const blob = new Hasher();
  const tar = new Hasher();
  const counted = createReadStream(path).pipe(blob.stream());
  for await (const chunk of decompress(counted) as AsyncIterable<Uint8Array>) tar.update(chunk);
  if (!counted.readableEnded) await finished(counted.resume());
  return { digest: blob.digest(), diffId: tar.digest() };
}

export async function readFlat(path: string, name: string): Promise<ImportItem> {
  const { digest, diffId } = await digests(path);
  return {
    names: [name], tags: [],
    config: flatConfig(diffId),
    layers: [{ digest, mediaType: mediaTypeOf(path), size: statSync(path).size, open: async () => createReadStream(path) }],
  };
}
