// What the kernel and the resolver accept as a hostname or NIS domain name.
import { ValidationError } from '@nsk/syscall';

/** uname(2), sethostname(2): the kernel keeps at most 64 bytes (HOST_NAME_MAX, __NEW_UTS_LEN). */
export const HOST_NAME_MAX = 64;

// hostname(7): labels of ASCII letters, digits and hyphens, 1–63 long, not
// starting (nor, per RFC 1123, ending) with a hyphen, joined by single dots.
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

function checkLength(field: string, name: unknown): string {
  if (typeof name !== 'string') throw new ValidationError(field, `not a string: ${String(name)}`);
  if (name.includes('\0')) throw new ValidationError(field, 'contains a NUL byte');
  const bytes = Buffer.byteLength(name);
  if (bytes === 0) throw new ValidationError(field, 'is empty (leave it out to keep the host’s)');
  if (bytes > HOST_NAME_MAX) throw new ValidationError(field, `is ${bytes} bytes; the kernel keeps at most ${HOST_NAME_MAX}`);
  return name;
}

/** Throws a ValidationError unless `name` is a hostname hostname(7) allows. */
export function checkHostname(name: unknown, field = 'hostname'): string {
  const s = checkLength(field, name);
  if (!s.split('.').every((label) => LABEL.test(label))) {
    throw new ValidationError(field, `${JSON.stringify(s)} is not a hostname: use letters, digits and hyphens, in dot-separated labels that do not start or end with a hyphen`);
  }
  return s;
}

/**
 * Throws a ValidationError unless `name` is a usable NIS domain name:
 * setdomainname(2) takes any bytes, but a name with spaces or control
 * characters breaks every tool that prints it, so only printable ASCII.
 */
export function checkDomainname(name: unknown, field = 'domainname'): string {
  const s = checkLength(field, name);
  if (!/^[\x21-\x7e]+$/.test(s)) throw new ValidationError(field, `${JSON.stringify(s)} is not a domain name: use printable ASCII without spaces`);
  return s;
}
