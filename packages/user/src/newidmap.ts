// newuidmap(1) and newgidmap(1), from shadow-utils (Debian's uidmap). They
// are setuid root because the kernel lets only a writer with CAP_SETUID
// (CAP_SETGID) in the parent namespace map ids other than its own
// (user_namespaces(7)); they check the ranges against /etc/subuid and
// /etc/subgid before writing /proc/PID/uid_map (gid_map).
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { NskError, SyscallError, errnoNumber } from '@nsk/syscall';
import type { IdKind, IdMap } from './id-map.ts';

export type IdMapper = 'newuidmap' | 'newgidmap';

export const mapperFor = (kind: IdKind): IdMapper => (kind === 'uid' ? 'newuidmap' : 'newgidmap');

/** The program's path: searched in PATH, then in /usr/bin and /usr/sbin. Null when absent. */
export function findMapper(program: IdMapper, path = process.env.PATH ?? ''): string | null {
  for (const dir of [...path.split(':').filter((d) => d.startsWith('/')), '/usr/bin', '/usr/sbin', '/bin']) {
    const file = join(dir, program);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch { /* next */ }
  }
  return null;
}

/** newuidmap or newgidmap ran and refused (exit status not 0). */
export class IdMapperError extends NskError {
  readonly program: string;
  readonly args: readonly string[];
  readonly status: number | null;
  readonly stderr: string;
  constructor(program: string, args: readonly string[], status: number | null, stderr: string) {
    super(`${program} ${args.join(' ')}: exited ${status ?? 'on a signal'}${stderr.trim() ? `: ${stderr.trim()}` : ''}`, 'ERR_NSK_ID_MAPPER');
    this.program = program;
    this.args = args;
    this.status = status;
    this.stderr = stderr;
  }
}

/** The arguments: `PID inside outside count [inside outside count]…`. */
export function mapperArgs(pid: number, map: IdMap): string[] {
  return [String(pid), ...map.flatMap((r) => [String(r.inside), String(r.outside), String(r.count)])];
}

/** `newuidmap PID 0 1000 1 1 100000 65536`: resolves once the map is written. */
export function runMapper(program: string, pid: number, map: IdMap): Promise<void> {
  const args = mapperArgs(pid, map);
  return new Promise((resolve, reject) => {
    // A fixed, small environment: the program is setuid and its messages are
    // read by people (LC_ALL=C keeps them in English).
    execFile(program, args, { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' }, timeout: 10_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code === 'string') {
        reject(new SyscallError({ step: `map ids of ${pid} through ${program}`, syscall: 'execve', errno: errnoNumber(code), path: program, hint: code === 'ENOENT' ? 'install newuidmap/newgidmap (Debian and Ubuntu: the uidmap package)' : undefined, cause: err }));
      } else {
        reject(new IdMapperError(program, args, typeof code === 'number' ? code : null, String(stderr)));
      }
    });
  });
}
