// The parent's part: writing the child's maps itself, through
// /proc/PID/{uid_map,setgroups,gid_map}.
import { closeSync, openSync, writeSync, constants } from 'node:fs';
import { SyscallError, errnoNumber } from '@nsk/syscall';
import { formatIdMap, type IdKind, type IdMap } from './id-map.ts';

const HINTS: Record<string, string> = {
  EPERM: 'not allowed to write this map: without CAP_SETUID/CAP_SETGID in the parent namespace only a single line mapping your own effective id may be written, once (user_namespaces(7))',
  EINVAL: 'the kernel refused the map: overlapping ranges, an outside id not mapped in the parent namespace, or too many lines',
};

function writeOnce(path: string, text: string, step: string): void {
  let fd = -1;
  try {
    fd = openSync(path, constants.O_WRONLY);
    // (libuv opens every fd close-on-exec.) user_namespaces(7): the whole map
    // goes in one write(2) at offset 0.
    const n = writeSync(fd, text);
    if (n !== Buffer.byteLength(text)) throw Object.assign(new Error('short write'), { code: 'EINVAL' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== 'string' || !code.startsWith('E')) throw err;
    const errno = errnoNumber(code);
    const hint = HINTS[code];
    throw new SyscallError({ step, syscall: fd < 0 ? 'open' : 'write', errno, path, args: [path, JSON.stringify(text)], ...(hint ? { hint } : {}), cause: err });
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Writes `map` to /proc/PID/uid_map (or gid_map). `echo '0 1000 1' > /proc/PID/uid_map`. */
export function writeIdMap(pid: number, kind: IdKind, map: IdMap): void {
  writeOnce(`/proc/${pid}/${kind}_map`, formatIdMap(map), `write the ${kind} map of ${pid}`);
}

/**
 * `echo deny > /proc/PID/setgroups`. user_namespaces(7): a process without
 * CAP_SETGID in the parent namespace may write gid_map only after setgroups(2)
 * has been denied there — else it could drop a group that denies it access.
 */
export function denySetgroups(pid: number): void {
  writeOnce(`/proc/${pid}/setgroups`, 'deny\n', `deny setgroups in the user namespace of ${pid}`);
}
