// Where the store lives when nobody says: the system's place for root
// (like /var/lib/docker), the XDG data directory for everyone else (a
// rootless user cannot write /var/lib).
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export function defaultStoreRoot(): string {
  if (process.getuid?.() === 0) return '/var/lib/nsk';
  // XDG Base Directory Specification: a relative $XDG_DATA_HOME is invalid and ignored.
  const xdg = process.env.XDG_DATA_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local/share'), 'nsk');
}
