// The binary layout the trampolines read (see ../trampoline/x86_64.S).
export const HEADER_SIZE = 16;
export const STEP_SIZE = 64;
/** Offsets inside a step. */
export const STEP = {
  nr: 0,
  args: 8,
  tolerate: 56,
  indirect: 58,
  flags: 59,
  resultOffset: 60,
} as const;
export const FLAG_NONZERO = 1;
/** The size of the {u32 step, i32 errno} record a failing step writes. */
export const REPORT_SIZE = 8;
