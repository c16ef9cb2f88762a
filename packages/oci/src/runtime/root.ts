// runc keeps its state in /run/runc; nsk-runtime in /run/nsk-runtime (a
// tmpfs: nothing of a container outlives a reboot). Its own module, so
// that main.ts reads it without loading the state code.
export const DEFAULT_ROOT = '/run/nsk-runtime';
