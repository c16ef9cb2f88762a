// The defaults a Docker user expects, in one place (README "Defaults").
import { randomBytes } from 'node:crypto';

/** Docker adds this PATH when the image sets none (moby's oci.DefaultPathEnv). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Without an image's Cmd or a command. */
export const DEFAULT_COMMAND: readonly string[] = ['/bin/sh'];

/** CFS period for `cpus` (Docker's --cpus: quota = cpus × 100 000 µs per 100 000 µs). */
export const CPU_PERIOD_US = 100_000;

/** Docker's smallest memory limit ("Minimum memory limit allowed is 6MB"). */
export const MIN_MEMORY = 6 * 1024 * 1024;

/** A container name: 12 hex digits, like a short Docker id. */
export function randomName(): string {
  return randomBytes(6).toString('hex');
}

/** True when this process is root (euid 0): rootful defaults. */
export function isRoot(): boolean {
  return (process.geteuid?.() ?? 0) === 0;
}

/** KEY=value lists merged: later keys replace earlier ones, order of first appearance kept. */
export function mergeEnv(...lists: ReadonlyArray<readonly string[] | undefined>): string[] {
  const map = new Map<string, string>();
  for (const list of lists) for (const e of list ?? []) map.set(e.slice(0, e.indexOf('=')), e);
  return [...map.values()];
}

/** The value of `key` in a KEY=value list. */
export function envValue(env: readonly string[], key: string): string | undefined {
  const e = env.find((x) => x.startsWith(`${key}=`));
  return e === undefined ? undefined : e.slice(key.length + 1);
}
