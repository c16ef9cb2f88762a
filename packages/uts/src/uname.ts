// Reading this process's UTS names: uname(2).
import { Arena, syscall } from '@nsk/syscall';

export interface Uname {
  sysname: string;
  /** The hostname of this process's UTS namespace. */
  nodename: string;
  release: string;
  version: string;
  machine: string;
  /** The NIS domain name of this process's UTS namespace; `(none)` when unset. */
  domainname: string;
}

// struct new_utsname (linux/utsname.h): six NUL-padded fields of 65 bytes.
const FIELD = 65;
// syscall() passes numbers only, so the kernel writes into a page of our own.
let page: Arena | undefined;

/**
 * uname(2). Namespaces belong to threads; this reads the main thread's,
 * where Node runs JavaScript.
 */
export function uname(): Uname {
  page ??= Arena.map(6 * FIELD);
  syscall('uname', page.address);
  const field = (i: number): string => {
    const b = page!.bytes.subarray(i * FIELD, (i + 1) * FIELD);
    const end = b.indexOf(0);
    return Buffer.from(b.subarray(0, end < 0 ? FIELD : end)).toString();
  };
  return { sysname: field(0), nodename: field(1), release: field(2), version: field(3), machine: field(4), domainname: field(5) };
}

/** This process's hostname. Stands for `hostname`. */
export function hostname(): string {
  return uname().nodename;
}

/** This process's NIS domain name. Stands for `domainname`. */
export function domainname(): string {
  return uname().domainname;
}
