// A root filesystem made from the host's busybox-static: one static binary,
// no libraries, nothing downloaded. Debian/Ubuntu: apt-get install busybox-static.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NskError } from '@nsk/syscall';

/** Where Debian's busybox-static puts its binary (first match wins). */
export const BUSYBOX_PATHS = ['/bin/busybox', '/usr/bin/busybox'];

const DIRS = ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home', 'var/tmp', 'var/www'];

/** True when `file` is an ELF executable with no program interpreter (statically linked). */
export function isStaticElf(file: string): boolean {
  const b = readFileSync(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false; // ELF64
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3 /* PT_INTERP */) return false;
  return true;
}

/** The host's static busybox, or null. */
export function findBusybox(): string | null {
  return BUSYBOX_PATHS.find((p) => existsSync(p) && isStaticElf(p)) ?? null;
}

/**
 * Makes `dir` a root filesystem: busybox and a link per applet, /etc/passwd,
 * /etc/group, empty mount points. Built beside `dir` and renamed into place,
 * so a half-built tree is never used. Returns `dir`; reuses it if built.
 */
export function busyboxRootfs(dir: string): string {
  if (existsSync(join(dir, '.nsk-rootfs'))) return dir;
  const busybox = findBusybox();
  if (!busybox) throw new NskError(`no static busybox at ${BUSYBOX_PATHS.join(' or ')}: install busybox-static (apt-get install busybox-static)`, 'ERR_NSK_NO_BUSYBOX');
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    for (const d of DIRS) mkdirSync(join(tmp, d), { recursive: true });
    chmodSync(join(tmp, 'tmp'), 0o1777);
    copyFileSync(busybox, join(tmp, 'bin/busybox'));
    chmodSync(join(tmp, 'bin/busybox'), 0o755);
    // busybox knows its own applets and where each belongs (/bin/sh, /sbin/ip …).
    const applets = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const rel of applets) {
      const link = join(tmp, rel);
      if (existsSync(link)) continue;
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync('/bin/busybox', link);
    }
    writeFileSync(join(tmp, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
    writeFileSync(join(tmp, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    writeFileSync(join(tmp, 'etc/hostname'), 'nsk\n');
    writeFileSync(join(tmp, '.nsk-rootfs'), `busybox ${busybox}\n`);
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(join(dir, '.nsk-rootfs'))) return dir; // another process built it first
    throw err;
  }
  return dir;
}
