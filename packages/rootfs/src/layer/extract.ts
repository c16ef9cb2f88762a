// extractTar(): an image layer (a tar stream) unpacked into a directory,
// safely. What "safely" means here:
//
// - every name is checked first (entry-path.ts): no absolute names, no "..";
// - every parent directory is opened with openat2(2) RESOLVE_IN_ROOT |
//   RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS (dir-fds.ts): an entry is
//   never created through a symlink, whether the archive planted it or it
//   was there before;
// - every entry is then created with one *at(2) call relative to that fd and
//   a single name: O_CREAT|O_EXCL|O_NOFOLLOW for files, so an existing file,
//   symlink or hard link in the way is removed and replaced, never written
//   through;
// - hard links may only point at something already inside the root, reached
//   the same way; linkat(2) without AT_SYMLINK_FOLLOW never follows one;
// - the total size, the number of entries and the size of extended headers
//   are bounded, and sparse files are refused (their real size is unbounded
//   by the archive's size).
import { AT, O, SyscallError, ValidationError } from '@nsk/syscall';
import { Extractor } from './extractor.ts';
import { Native } from './native.ts';
import { validate, type ExtractOptions, type ExtractResult } from './options.ts';
import { TarReader } from './tar-reader.ts';

export { DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, type ExtractOptions, type ExtractResult } from './options.ts';

/** The largest PAX or GNU long-name header accepted. */
const MAX_META = 1 << 20;
const DIR_FLAGS = O.RDONLY | O.DIRECTORY | O.CLOEXEC;

/**
 * Unpacks an uncompressed tar stream into `root` (an existing directory).
 * Throws UnsafeArchiveError (naming the entry and the reason) for an entry
 * that would reach outside `root` or break a limit, SyscallError when the
 * kernel refuses a step, ValidationError for bad options (before reading).
 * On failure, what was already extracted stays in `root` for the caller to
 * remove; nothing is ever created outside it.
 */
export async function extractTar(
  tar: NodeJS.ReadableStream | AsyncIterable<Uint8Array>, root: string, opts: ExtractOptions,
): Promise<ExtractResult> {
  const o = validate(root, opts);
  const native = new Native();
  let x: Extractor | undefined;
  try {
    const rootFd = native.openat(AT.FDCWD, Buffer.from(root).toString('latin1'), DIR_FLAGS, 0);
    if (rootFd < 0) throw new SyscallError({ syscall: 'openat', errno: -rootFd, path: root, step: 'open the extraction root' });
    try {
      x = new Extractor(native, rootFd, o);
    } catch (err) {
      native.close(rootFd);
      throw err;
    }
    const reader = new TarReader(x, { maxMeta: MAX_META });
    let read = 0;
    for await (const chunk of tar as AsyncIterable<Uint8Array | string>) {
      if (typeof chunk === 'string') throw new ValidationError('tar', 'is a text stream (an encoding was set); it must give bytes');
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      reader.push(b);
      read += b.length;
      o.onProgress?.(read);
    }
    reader.finish();
    x.finish();
    return x.result();
  } finally {
    x?.close();
    native.release();
  }
}
