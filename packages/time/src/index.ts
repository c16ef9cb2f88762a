export { time, planTime, type TimeOptions } from './time.ts';
export { readTimeOffsets, parseTimeOffsets, formatTimeOffsets, toTimespec, checkOffset, type Offset, type TimeOffsets } from './offsets.ts';
export { clockGetTime, CLOCK, type ClockName, type Timespec } from './clock.ts';
