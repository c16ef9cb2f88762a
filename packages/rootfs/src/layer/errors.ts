// The one error an archive is refused with.
import { NskError } from '@nsk/syscall';

/**
 * An archive entry that extraction refused: it would climb out of the root
 * (`..`, an absolute name, a symlink in its path, a hard link to outside),
 * break a limit (size, entry count, a sparse file), or is not a well-formed
 * tar header. Reads like
 * `archive entry "../x" refused: its name has a ".." component`.
 */
export class UnsafeArchiveError extends NskError {
  /** The entry's name as the archive spells it (or `(header at byte N)`). */
  readonly entry: string;
  /** Why it was refused, in words. */
  readonly reason: string;
  constructor(entry: string, reason: string, options?: ErrorOptions) {
    super(`archive entry ${JSON.stringify(entry)} refused: ${reason}`, 'ERR_NSK_UNSAFE_ARCHIVE', options);
    this.entry = entry;
    this.reason = reason;
  }
}

/**
 * Names travel as "binary strings" (one char per byte, latin1): tar names are
 * bytes, not necessarily UTF-8, and must reach the kernel unchanged. This
 * turns one into readable text for messages.
 */
export function display(binary: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(binary) ? binary : Buffer.from(binary, 'latin1').toString('utf8');
}
