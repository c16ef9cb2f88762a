// nsk's own default profile for containers: profiles/default.json, in
// Docker's format, so that it can be read, copied and edited like any
// other profile. Read from disk on each call: callers may change the copy.
import { readFileSync } from 'node:fs';
import { parseProfile } from './profile/parse.ts';
import type { SeccompProfile } from './profile/types.ts';

/** Where the default profile lives (the package's profiles/default.json). */
export const DEFAULT_PROFILE_PATH = new URL('../profiles/default.json', import.meta.url);

/** The default profile: an allow-list in the spirit of Docker's, EPERM for the rest. */
export function defaultProfile(): SeccompProfile {
  return parseProfile(readFileSync(DEFAULT_PROFILE_PATH, 'utf8'));
}
