// A root filesystem made of the host's own programs: each binary with its
// interpreter and the shared objects ld.so(8) would load for it, at the same
// paths, links kept — "copy bash and its libraries into a directory and
// chroot into it", with the library list computed instead of read from ldd.
import { accessSync, chmodSync, constants, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, closeSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { NskError, ValidationError } from '@nsk/syscall';
import { LD_SO_CACHE, systemDirs } from './elf-ld-cache.ts';
import { LibrarySearch, LibraryNotFoundError, type LddOptions, type LddResult } from './elf-resolve.ts';
import { HostCopier } from './host-copy.ts';

export interface HostRootfsOptions {
  /** Programs to copy with their interpreter and libraries: paths, or bare names looked up in $PATH. */
  binaries: readonly string[];
  /** More host paths copied as they are, at the same path (directories with their contents). */
  extra?: readonly string[];
  /** How libraries are searched (ld.so.cache, system dirs). */
  ldd?: LddOptions;
}

export interface HostFiles {
  /** The binaries asked for, as absolute host paths (scripts' interpreters added). */
  binaries: string[];
  /** Every host path to copy: binaries, interpreters, shared objects; ld.so.cache when needed. */
  files: string[];
  /** What each binary needs, in the order of `binaries`. */
  ldd: LddResult[];
}

/** Mount points and scratch dirs a container expects; created empty. */
const DIRS: ReadonlyArray<[string, number]> = [
  ['proc', 0o555], ['sys', 0o555], ['dev', 0o755], ['tmp', 0o1777], ['etc', 0o755],
  ['root', 0o700], ['run', 0o755], ['var', 0o755], ['var/tmp', 0o1777],
];
const MARKER = '.nsk-rootfs';
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The host files a rootfs of `binaries` needs, found as ld.so(8) would find
 * them. Throws ValidationError for a name not in $PATH, ElfError for a file
 * that is not ELF, LibraryNotFoundError when something is missing.
 */
export function hostRootfsFiles(options: HostRootfsOptions): HostFiles {
  checkOptions(options);
  const search = new LibrarySearch(options.ldd);
  const binaries: string[] = [];
  const results: LddResult[] = [];
  const files: string[] = [];
  const add = (p: string) => {
    if (!files.includes(p)) files.push(p);
  };
  let needCache = false;
  const queue = options.binaries.map((b) => findBinary(b, 'binaries'));
  for (let i = 0; i < queue.length; i++) {
    const bin = queue[i]!;
    if (binaries.includes(bin)) continue;
    binaries.push(bin);
    add(bin);
    // execve(2): a file starting with "#!" runs its interpreter instead.
    const script = shebang(bin);
    if (script) {
      queue.push(findBinary(script.interpreter, `${bin} (#!)`));
      // "#!/usr/bin/env NAME": env finds NAME in PATH, so it must be there too.
      if (script.interpreter.endsWith('/env') && script.arg && !script.arg.startsWith('-')) queue.push(findBinary(script.arg, `${bin} (#! env)`));
      continue;
    }
    const r = search.ldd(bin);
    if (r.missing.length > 0) throw new LibraryNotFoundError(r);
    results.push(r);
    if (r.interpreter?.path) add(r.interpreter.path);
    const sys = systemDirs(r.elf.arch, r.elf.class);
    for (const o of r.objects) {
      if (!o.path) continue;
      add(o.path);
      // Found through ld.so.cache outside the system dirs: the container's
      // ld.so needs the cache too to find it there.
      if (o.via === 'ld.so.cache' && !sys.includes(dirname(o.path))) needCache = true;
    }
  }
  const cache = options.ldd?.cache === undefined ? LD_SO_CACHE : options.ldd.cache;
  if (needCache && cache) add(cache);
  return { binaries, files, ldd: results };
}

/**
 * Makes `dir` a root filesystem holding `binaries` (their interpreter and
 * shared objects, at the host's paths, links kept), `extra`, and empty
 * proc, sys, dev, tmp, etc, root, run, var/tmp. Built beside `dir` and
 * renamed into place, so a half-built tree is never used. Returns `dir`;
 * reuses it if it was built with the same options.
 */
export function hostRootfs(dir: string, options: HostRootfsOptions): string {
  if (typeof dir !== 'string' || dir === '' || dir.includes('\0')) throw new ValidationError('dir', 'give the directory to build');
  const target = resolve(dir);
  const stamp = marker(options);
  if (built(target, stamp)) return target;
  if (existsSync(target) && (!lstatSync(target).isDirectory() || readdirSync(target).length > 0)) {
    throw new NskError(`${target} exists and is not a root filesystem built from ${JSON.stringify(options.binaries)}: remove it or choose another directory`, 'ERR_NSK_ROOTFS_EXISTS');
  }
  // Everything that can fail for the caller's reasons fails here, before anything is created.
  const { files } = hostRootfsFiles(options);
  for (const e of options.extra ?? []) lstatOrThrow(e);

  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(dirname(target), { recursive: true });
    mkdirSync(tmp);
    chmodSync(tmp, 0o755);
    const copier = new HostCopier(tmp);
    for (const f of files) copier.copy(f);
    for (const e of options.extra ?? []) copier.copy(e, { recursive: true });
    for (const [d, mode] of DIRS) mkdirIn(tmp, d, mode);
    // Names for uid 0 (ls -l, the shell prompt), unless the caller brought its own.
    writeIfAbsent(tmp, 'etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
    writeIfAbsent(tmp, 'etc/group', 'root:x:0:\nnogroup:x:65534:\n');
    writeFileSync(join(tmp, MARKER), stamp);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (built(target, stamp)) return target; // another process built it first
    throw err;
  }
  return target;
}

function checkOptions(o: HostRootfsOptions): void {
  if (o === null || typeof o !== 'object') throw new ValidationError('options', 'give { binaries: [...] }');
  if (!Array.isArray(o.binaries) || o.binaries.length === 0) throw new ValidationError('binaries', 'give at least one program (a path, or a name in $PATH)');
  for (const b of o.binaries) if (typeof b !== 'string' || b === '' || b.includes('\0')) throw new ValidationError('binaries', `not a program name or path: ${JSON.stringify(b)}`);
  if (o.extra !== undefined && !Array.isArray(o.extra)) throw new ValidationError('extra', 'give a list of absolute host paths');
  for (const e of o.extra ?? []) {
    if (typeof e !== 'string' || !isAbsolute(e) || e.includes('\0')) throw new ValidationError('extra', `not an absolute host path: ${JSON.stringify(e)}`);
  }
}

/** `name` as an absolute path: itself if it has a "/", else the first executable match in $PATH (as execvp(3)). */
export function findBinary(name: string, field = 'binaries'): string {
  if (name.includes('/')) {
    const p = resolve(name);
    if (!existsSync(p)) throw new ValidationError(field, `${p} does not exist`);
    return p;
  }
  const dirs = (process.env.PATH ?? DEFAULT_PATH).split(':');
  for (const d of dirs) {
    const p = resolve(d || '.', name);
    try {
      accessSync(p, constants.X_OK);
      if (lstatSync(p).isDirectory()) continue;
      return p;
    } catch {
      // not here
    }
  }
  throw new ValidationError(field, `${JSON.stringify(name)} is not in PATH (${dirs.join(':')})`);
}

/** The interpreter line of a "#!" script, or null for anything else. */
function shebang(path: string): { interpreter: string; arg: string | null } | null {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(256);
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 2 || head[0] !== 0x23 || head[1] !== 0x21) return null;
  const line = head.toString('utf8', 2, n).split('\n')[0]!.trim();
  // execve(2): the interpreter, then at most one optional argument.
  const m = /^(\S+)(?:\s+(.*))?$/.exec(line);
  if (!m || !isAbsolute(m[1]!)) return null;
  return { interpreter: m[1]!, arg: m[2]?.trim() || null };
}

function marker(o: HostRootfsOptions): string {
  return `host\n${JSON.stringify({ binaries: [...o.binaries].sort(), extra: [...(o.extra ?? [])].sort() })}\n`;
}

function built(dir: string, stamp: string): boolean {
  try {
    return readFileSync(join(dir, MARKER), 'utf8') === stamp;
  } catch {
    return false;
  }
}

function lstatOrThrow(p: string): void {
  try {
    lstatSync(p);
  } catch {
    throw new ValidationError('extra', `${p} does not exist`);
  }
}

/** mkdir each missing component of `rel` under `root`; a link on the way is left alone, never followed. */
function mkdirIn(root: string, rel: string, mode: number): void {
  let cur = root;
  for (const part of rel.split('/')) {
    cur = join(cur, part);
    let st;
    try {
      st = lstatSync(cur);
    } catch {
      mkdirSync(cur);
      chmodSync(cur, mode);
      continue;
    }
    if (!st.isDirectory()) return;
  }
}

function writeIfAbsent(root: string, rel: string, text: string): void {
  const p = join(root, rel);
  try {
    lstatSync(p);
  } catch {
    if (lstatSync(dirname(p)).isDirectory()) writeFileSync(p, text, { mode: 0o644 });
  }
}
