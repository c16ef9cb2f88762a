// uts_namespaces(7): a UTS namespace holds a hostname and an NIS domain
// name, copied from the parent's when it is made. Setting them inside
// changes nothing outside.
import { CLONE } from '@nsk/syscall';
import type { Feature, Plan } from '@nsk/clone';
import { checkDomainname, checkHostname } from './names.ts';

export interface UtsOptions {
  /** The container's hostname (hostname(7) rules, at most 64 bytes). Default: a copy of the host's. */
  hostname?: string;
  /** The container's NIS domain name (printable ASCII, at most 64 bytes). Default: a copy of the host's. */
  domainname?: string;
}

function check(o: UtsOptions): UtsOptions {
  return {
    ...(o.hostname !== undefined ? { hostname: checkHostname(o.hostname) } : {}),
    ...(o.domainname !== undefined ? { domainname: checkDomainname(o.domainname) } : {}),
  };
}

/**
 * Adds the steps that name the container. They must run inside its new UTS
 * namespace: sethostname(2) needs CAP_SYS_ADMIN in the user namespace that
 * owns it, which a child born into new user and UTS namespaces has.
 */
export function planUts(plan: Plan, options: UtsOptions): void {
  const o = check(options);
  if (o.hostname !== undefined) plan.sethostname(o.hostname);
  if (o.domainname !== undefined) plan.setdomainname(o.domainname);
}

/** A Feature: a new UTS namespace, named. Stands for `unshare --uts; hostname NAME; domainname NAME`. */
export function uts(options: UtsOptions = {}): Feature {
  const o = check(options);
  return { name: 'uts', cloneFlags: CLONE.NEWUTS, plan: (plan) => planUts(plan, o) };
}
