// Reading a profile from JSON text without losing bits: argument values are
// uint64, and JSON.parse would round 18446744073709551615 to 2^64. The
// reviver sees each number's source text (JSON.parse source text access,
// V8 11.4+) and turns integers beyond 2^53 into BigInt.
import { ValidationError } from '@nsk/syscall';
import type { SeccompProfile } from './types.ts';

interface ReviverContext {
  source?: string;
}

/** Parses a Docker or OCI seccomp profile. Checking happens in compile(). */
export function parseProfile(text: string): SeccompProfile {
  try {
    return JSON.parse(text, (_key: string, value: unknown, context?: ReviverContext) => {
      if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^\d+$/.test(context.source)) {
        return BigInt(context.source);
      }
      return value;
    }) as SeccompProfile;
  } catch (err) {
    throw new ValidationError('profile', `not JSON: ${(err as Error).message}`);
  }
}
