// Where ld.so(8) looks after an object's own RPATH/RUNPATH: the names that
// ldconfig(8) wrote to /etc/ld.so.cache, then the system directories.
// /etc/ld.so.conf is what ldconfig read to write that cache; it serves here
// only when there is no cache.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { NskError } from '@nsk/syscall';
import { fsError } from './elf.ts';
import { multiarchTriplet } from './elf-machine.ts';
import type { ElfClass } from './elf.ts';

export const LD_SO_CACHE = '/etc/ld.so.cache';
export const LD_SO_CONF = '/etc/ld.so.conf';

export interface LdCacheEntry {
  /** The soname looked up: `libc.so.6`. */
  name: string;
  /** Where ldconfig found it: `/lib/x86_64-linux-gnu/libc.so.6`. */
  path: string;
  /** ldconfig's flags: the low byte is the kind (3: ELF libc6), the next the ABI (0x03: x86_64 lib64, 0x0a: aarch64). */
  flags: number;
  /** Non-zero for a library built for a CPU level (glibc-hwcaps, legacy hwcap subdirectories). */
  hwcap: bigint;
}

// glibc elf/dl-cache.h: the "new" format, alone or after the old one.
const MAGIC_OLD = 'ld.so-1.7.0';
const MAGIC_NEW = 'glibc-ld.so.cache1.1';
const NEW_HEADER = 48; // magic+version 20, nlibs 4, len_strings 4, flags 1+3, extension_offset 4, unused 12
const NEW_ENTRY = 24; // flags 4, key 4, value 4, osversion 4, hwcap 8
const OLD_ENTRY = 12;

/** Parses the bytes of an ld.so.cache (`path` only names it in errors). */
export function parseLdCache(bytes: Uint8Array, path = LD_SO_CACHE): LdCacheEntry[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let base = 0;
  if (b.toString('latin1', 0, MAGIC_OLD.length) === MAGIC_OLD) {
    // The old format's table comes first; the new one follows, 8-byte aligned.
    const n = b.readUInt32LE(MAGIC_OLD.length + 1);
    base = (MAGIC_OLD.length + 1 + 4 + n * OLD_ENTRY + 7) & ~7;
  }
  if (b.length < base + NEW_HEADER || b.toString('latin1', base, base + MAGIC_NEW.length) !== MAGIC_NEW) {
    throw new NskError(`${path}: not an ld.so cache in glibc's format (${MAGIC_NEW})`, 'ERR_NSK_LD_CACHE');
  }
  // Header flags, low two bits: 2 little-endian, 3 big-endian (0: not recorded, so this host's).
  const little = (b[base + 28]! & 3) !== 3;
  const u32 = (at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const nlibs = u32(base + 20);
  if (b.length < base + NEW_HEADER + nlibs * NEW_ENTRY) throw new NskError(`${path}: truncated ld.so cache (${nlibs} entries announced)`, 'ERR_NSK_LD_CACHE');
  // Strings are offsets from the start of the new-format header.
  const str = (at: number) => {
    const start = base + at;
    const end = b.indexOf(0, start);
    return b.toString('utf8', start, end < 0 ? b.length : end);
  };
  const out: LdCacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const at = base + NEW_HEADER + i * NEW_ENTRY;
    out.push({
      flags: u32(at),
      name: str(u32(at + 4)),
      path: str(u32(at + 8)),
      hwcap: little ? b.readBigUInt64LE(at + 16) : b.readBigUInt64BE(at + 16),
    });
  }
  return out;
}

/** The entries of the ld.so.cache at `path`, or null when there is none. */
export function readLdCache(path = LD_SO_CACHE): LdCacheEntry[] | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fsError(err, path, 'read the ld.so cache');
  }
  return parseLdCache(bytes, path);
}

/**
 * The directories /etc/ld.so.conf lists, following `include` lines (globs
 * allowed in the last part, as ldconfig(8) does). Missing files give none.
 */
export function readLdSoConf(path = LD_SO_CONF, seen = new Set<string>()): string[] {
  if (seen.has(path) || !existsSync(path)) return [];
  seen.add(path);
  const dirs: string[] = [];
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const include = /^include\s+(.+)$/.exec(line);
    if (include) {
      for (const pattern of include[1]!.trim().split(/\s+/)) {
        const abs = isAbsolute(pattern) ? pattern : join(dirname(path), pattern);
        for (const file of glob(abs)) dirs.push(...readLdSoConf(file, seen));
      }
      continue;
    }
    if (/^hwcap\s/.test(line)) continue;
    // Old ldconfig syntax allowed "dir=TYPE" and several dirs on a line.
    for (const d of line.split(/[\s:,]+/)) if (d) dirs.push(d.replace(/=.*$/, ''));
  }
  return [...new Set(dirs)];
}

/** Expands `*`, `?` and `[…]` in the last part of an absolute path, sorted as glob(3) does. */
function glob(pattern: string): string[] {
  const dir = dirname(pattern);
  const base = pattern.slice(dir.length + (dir.endsWith('/') ? 0 : 1));
  if (!/[*?[]/.test(base)) return existsSync(pattern) ? [pattern] : [];
  const re = new RegExp(`^${base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => !n.startsWith('.') && re.test(n)).sort().map((n) => join(dir, n));
}

/**
 * The directories ld.so searches last (its "system search path"): on Debian
 * /lib/<triplet> and /usr/lib/<triplet>, then /lib and /usr/lib; other
 * distributions put 64-bit libraries in /lib64 and /usr/lib64.
 */
export function systemDirs(arch: string, klass: ElfClass): string[] {
  const triplet = multiarchTriplet(arch, klass);
  return [
    ...(triplet ? [`/lib/${triplet}`, `/usr/lib/${triplet}`] : []),
    ...(klass === 64 ? ['/lib64', '/usr/lib64'] : []),
    '/lib',
    '/usr/lib',
  ];
}
