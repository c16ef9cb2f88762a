// Layers come gzip'ed (application/vnd.oci.image.layer.v1.tar+gzip), zstd'ed
// (…tar+zstd) or plain; the magic bytes say which (RFC 1952: 1f 8b; RFC
// 8878: 28 b5 2f fd). Node's zlib has both decoders.
import { Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { NskError } from '@nsk/syscall';

export type Compression = 'gzip' | 'zstd' | 'none';

/** The compression the first bytes of a stream announce ('none' for anything else). */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

function unsupported(head: Uint8Array): string | null {
  if (head.length >= 6 && Buffer.from(head.subarray(0, 6)).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  return null;
}

/** Output chunks of 256 KiB: fewer, larger writes downstream than zlib's 16 KiB default. */
const CHUNK = 256 * 1024;

/** gzip / zstd / plain, sniffed from the magic bytes; passes plain tar through. */
export function decompress(input: NodeJS.ReadableStream): NodeJS.ReadableStream {
  async function* run(): AsyncGenerator<Buffer> {
    const it = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let have = 0;
    let done = false;
    while (have < 6) {
      const r = await it.next();
      if (r.done) { done = true; break; }
      const b = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      head.push(b);
      have += b.length;
    }
    const first = Buffer.concat(head);
    const bad = unsupported(first);
    if (bad !== null) throw new NskError(`${bad}-compressed layers are not supported (gzip, zstd or plain tar)`, 'ERR_NSK_UNSUPPORTED_COMPRESSION');
    const kind = sniffCompression(first);
    async function* rest(): AsyncGenerator<Buffer> {
      if (first.length > 0) yield first;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      }
    }
    if (kind === 'none') {
      yield* rest();
      return;
    }
    const decoder = kind === 'gzip' ? createGunzip({ chunkSize: CHUNK }) : createZstdDecompress({ chunkSize: CHUNK });
    const source = Readable.from(rest(), { objectMode: false });
    source.on('error', (err) => decoder.destroy(err));
    source.pipe(decoder);
    try {
      yield* decoder as AsyncIterable<Buffer>;
    } finally {
      source.destroy();
      await it.return?.();
    }
  }
  return Readable.from(run(), { objectMode: false });
}
