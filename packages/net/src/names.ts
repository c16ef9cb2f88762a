// Checks on interface names, before anything is asked of the kernel.
import { ValidationError } from '@nsk/syscall';
import { IFNAMSIZ } from './nl/consts.ts';

/**
 * netdevice(7): a name has at most IFNAMSIZ-1 = 15 bytes; dev_valid_name()
 * in net/core/dev.c also refuses "", ".", "..", "/", ":" and whitespace.
 */
export function checkLinkName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || name.length === 0) throw new ValidationError(field, 'an interface name is a non-empty string');
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > IFNAMSIZ - 1) throw new ValidationError(field, `${JSON.stringify(name)} has ${bytes} bytes; an interface name has at most ${IFNAMSIZ - 1} (IFNAMSIZ-1)`);
  if (name === '.' || name === '..' || /[/:\s]/.test(name)) throw new ValidationError(field, `${JSON.stringify(name)} is not a valid interface name (no "/", ":", whitespace, "." or "..")`);
  return name;
}
