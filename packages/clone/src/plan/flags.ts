// Flag names for explain(): `MS_REC|MS_PRIVATE` reads better than 0x44000.
import { AT, CLONE, CLOSE_RANGE, MS, O } from '@nsk/syscall';

function namer(prefix: string, table: Record<string, number>) {
  const entries = Object.entries(table).filter(([, v]) => v !== 0).sort((a, b) => b[1] - a[1]);
  return (value: number): string => {
    if (value === 0) return '0';
    const names: string[] = [];
    let rest = value >>> 0;
    for (const [name, bit] of entries) {
      if ((rest & bit) === bit && bit > 0) {
        names.push(prefix + name);
        rest &= ~bit >>> 0;
      }
    }
    if (rest) names.push(`0x${rest.toString(16)}`);
    return names.join('|');
  };
}

const { RDONLY: _rdonly, WRONLY: _wronly, RDWR: _rdwr, ...openBits } = O;
const openNamer = namer('O_', openBits);
export const msFlags = namer('MS_', MS);
export const cloneFlags = namer('CLONE_', CLONE);
export const closeRangeFlags = namer('CLOSE_RANGE_', CLOSE_RANGE);
export const atFlags = namer('AT_', { SYMLINK_NOFOLLOW: AT.SYMLINK_NOFOLLOW, REMOVEDIR: AT.REMOVEDIR, SYMLINK_FOLLOW: AT.SYMLINK_FOLLOW, EMPTY_PATH: AT.EMPTY_PATH, RECURSIVE: AT.RECURSIVE });
export function openFlags(value: number): string {
  const mode = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][value & 3]!;
  const rest = value & ~3;
  return rest ? `${mode}|${openNamer(rest)}` : mode;
}
export function dirfd(fd: number): string {
  return fd === AT.FDCWD ? 'AT_FDCWD' : String(fd);
}
export function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}
