// Where the filter lives while a child installs it.
//
// seccomp(2) takes a `struct sock_fprog { u16 len; struct sock_filter *filter; }`:
// a pointer to the instructions. A plan places each argument's bytes in its
// own memory, at an address only known when it is encoded, and has no way to
// put one placed block's address inside another. So the instructions go in
// an mmap'd Arena of their own, whose address is known now; the sock_fprog
// (16 bytes, with that address in it) is the plan step's argument.
//
// An anonymous private mapping is shared with a CLONE_VM child and copied
// into a forked one (DESIGN.md §1), so it is valid until the child's
// execve(2). One Arena per Filter, made on first use and unmapped when the
// Filter is garbage-collected: a child being started keeps its features,
// and so the Filter, alive until it has exec'd.
import { Arena } from '@nsk/syscall';
import type { Filter } from './filter.ts';

const arenas = new WeakMap<Filter, Arena>();
const unmap = new FinalizationRegistry<Arena>((arena) => arena.release());

/** The address of `filter`'s instructions in memory a cloned child can read. */
export function filterAddress(filter: Filter): bigint {
  let arena = arenas.get(filter);
  if (!arena) {
    const bytes = filter.bytes();
    arena = Arena.map(bytes.length);
    arena.bytes.set(bytes);
    arenas.set(filter, arena);
    unmap.register(filter, arena);
  }
  return arena.address;
}

/** struct sock_fprog (linux/filter.h) on a 64-bit ABI: len, 6 bytes of padding, the pointer. */
export function sockFprog(length: number, address: bigint): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint16(0, length, true);
  v.setBigUint64(8, address, true);
  return out;
}
