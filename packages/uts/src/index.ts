export { uts, planUts, type UtsOptions } from './uts.ts';
export { checkHostname, checkDomainname, HOST_NAME_MAX } from './names.ts';
export { uname, hostname, domainname, type Uname } from './uname.ts';
