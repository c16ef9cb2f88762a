// mkfifo(3) is mknodat(2) with S_IFIFO.
import { chmodSync } from 'node:fs';
import { AT, syscall, Arena } from '@nsk/syscall';

let arena: Arena | undefined;

export function mkfifoSync(path: string, mode: number): void {
  const bytes = Buffer.from(`${path}\0`);
  if (!arena || arena.bytes.length < bytes.length) arena = Arena.map(Math.max(4096, bytes.length));
  arena.bytes.set(bytes);
  syscall('mknodat', AT.FDCWD, arena.address, 0o010000 | mode, 0);
  // mknod(2) applies the umask; the mode asked for is the one meant.
  chmodSync(path, mode);
}
