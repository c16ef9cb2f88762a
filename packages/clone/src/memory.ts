// Memory for one child: its plan at the bottom, its stack at the top. Regions
// are reused: mmap/munmap per container would cost more than the plan does.
import { Arena } from '@nsk/syscall';

export const STACK_SIZE = 16 * 1024;
const REGION_SIZE = 64 * 1024;
const KEEP = 32;
const free: Arena[] = [];

/** A region holding `planSize` bytes of plan plus the stack. */
export function takeRegion(planSize: number): Arena {
  const need = planSize + STACK_SIZE;
  if (need <= REGION_SIZE) return free.pop() ?? Arena.map(REGION_SIZE);
  return Arena.map(need);
}

/** Returns a region once the child has exec'd or died (never before: with CLONE_VM it runs on it). */
export function giveRegion(region: Arena): void {
  if (region.size === REGION_SIZE && free.length < KEEP) free.push(region);
  else region.release();
}

/** The initial stack pointer: the region's end, 16-byte aligned as both ABIs require. */
export function stackTop(region: Arena): bigint {
  return (region.address + BigInt(region.size)) & ~15n;
}
