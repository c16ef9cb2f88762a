// config.json `linux.seccomp`, compiled by @nsk/seccomp (the OCI form is one
// of the profile formats it reads) for the process's bounding set.
import { ValidationError } from '@nsk/syscall';
import { compile, checkInstallable, type Filter } from '@nsk/seccomp';
import { bad, object } from './json.ts';

export function checkSeccomp(v: unknown, capabilities: readonly string[]): Filter | null {
  if (v === undefined || v === null) return null;
  const o = object('linux.seccomp', v);
  if (o.listenerPath !== undefined && o.listenerPath !== '') bad('linux.seccomp.listenerPath', 'cannot be honored: nsk-runtime does not hand seccomp listeners to an agent');
  const { listenerPath: _l, listenerMetadata: _m, ...profile } = o;
  try {
    const filter = compile(profile as never, { capabilities, unknownSyscalls: 'ignore' });
    checkInstallable(filter);
    return filter;
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(`linux.seccomp.${err.field}`, err.message.slice(err.field.length + 2));
    throw err;
  }
}
