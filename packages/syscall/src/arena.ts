// Memory that survives clone(2).
//
// Node marks the V8 heap MADV_DONTFORK (DESIGN.md §1), so a child made by
// clone(2) without CLONE_VM finds holes where JavaScript objects were. Plans,
// their strings and the child's stack therefore live in anonymous mmap(2)
// pages, which a forked child inherits and a CLONE_VM child shares.
import { mmap, munmap } from './calls.ts';
import { MAP, PROT } from './constants.ts';
import { viewAt } from './libc.ts';

const PAGE = 4096;

export class Arena {
  /** The address of the first byte. */
  readonly address: bigint;
  /** The size in bytes (a whole number of pages). */
  readonly size: number;
  /** The memory, writable from JavaScript. */
  readonly bytes: Uint8Array;
  #released = false;

  private constructor(address: bigint, size: number) {
    this.address = address;
    this.size = size;
    this.bytes = new Uint8Array(viewAt(address, size));
  }

  /** Maps `size` bytes (rounded up to pages) of zeroed, private, read-write memory. */
  static map(size: number): Arena {
    const len = Math.ceil(size / PAGE) * PAGE;
    return new Arena(mmap(len, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS), len);
  }

  get released(): boolean {
    return this.#released;
  }

  /** Unmaps the memory. Idempotent; the view must not be used afterwards. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    munmap(this.address, this.size);
  }
}
