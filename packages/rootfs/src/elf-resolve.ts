// What ld.so(8) would load for a program, found without running it: its
// interpreter and the transitive closure of DT_NEEDED, searched in ld.so's
// order. The same list `ldd` prints, computed in TypeScript.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { NskError } from '@nsk/syscall';
import { ElfError, readElf, type Elf } from './elf.ts';
import { LD_SO_CACHE, LD_SO_CONF, readLdCache, readLdSoConf, systemDirs, type LdCacheEntry } from './elf-ld-cache.ts';
import { multiarchTriplet } from './elf-machine.ts';

/** How a shared object was found, in ld.so(8)'s order. */
export type FoundVia = 'interpreter' | 'path' | 'rpath' | 'runpath' | 'ld.so.cache' | 'ld.so.conf' | 'system';

export interface SharedObject {
  /** The name asked for: a DT_NEEDED entry, or the interpreter's path. */
  name: string;
  /** Where it was found (as found: symlinks are not resolved), or null: `ldd`'s "not found". */
  path: string | null;
  /** The object whose DT_NEEDED (or PT_INTERP) named it. */
  neededBy: string;
  /** How it was found; null when it was not. */
  via: FoundVia | null;
  /** Its ELF header and dynamic section, when found. */
  elf: Elf | null;
  /** Candidates passed over: another class or machine, or not ELF. */
  rejected: Array<{ path: string; why: string }>;
}

export interface LddResult {
  /** The program (or library) asked about. */
  path: string;
  elf: Elf;
  /** PT_INTERP, which the kernel starts first (execve(2)); null for a static program. */
  interpreter: SharedObject | null;
  /**
   * What `ldd` lists, in its order (without linux-vdso.so.1, which the
   * kernel maps): load order, breadth first. The interpreter is among them
   * when some object needs it by name (libc does).
   */
  objects: SharedObject[];
  /** What was not found (`path` null), the interpreter included. */
  missing: SharedObject[];
}

export interface LddOptions {
  /** The ld.so cache to read; null for none. Default /etc/ld.so.cache. */
  cache?: string | null;
  /** Read only when there is no cache: its directories stand in for it. Default /etc/ld.so.conf. */
  ldSoConf?: string;
  /** ld.so's last resort. Default: from the program's machine (`/lib/x86_64-linux-gnu`, …, `/lib`, `/usr/lib`). */
  systemDirs?: readonly string[];
}

/** One loaded object, as ld.so keeps it in its link map. */
interface Loaded {
  entry: SharedObject;
  elf: Elf;
  /** The object that first needed it (ld.so's l_loader); null for the program. */
  loader: Loaded | null;
  /** $ORIGIN: the directory it was loaded from. */
  origin: string;
}

/** Reused across calls (one hostRootfs build asks about many binaries). */
export class LibrarySearch {
  readonly #options: LddOptions;
  readonly #elves = new Map<string, Elf | ElfError>();
  #cache: LdCacheEntry[] | null | undefined;
  #conf: string[] | undefined;

  constructor(options: LddOptions = {}) {
    this.#options = options;
  }

  /** The ELF at `path`, read once. Throws ElfError and fs errors. */
  elf(path: string): Elf {
    let e = this.#elves.get(path);
    if (e === undefined) {
      try {
        e = readElf(path);
      } catch (err) {
        if (!(err instanceof ElfError)) throw err;
        e = err;
      }
      this.#elves.set(path, e);
    }
    if (e instanceof ElfError) throw e;
    return e;
  }

  #ldCache(): LdCacheEntry[] | null {
    if (this.#cache === undefined) {
      const path = this.#options.cache === undefined ? LD_SO_CACHE : this.#options.cache;
      this.#cache = path === null ? null : readLdCache(path);
    }
    return this.#cache;
  }

  #ldSoConf(): string[] {
    this.#conf ??= readLdSoConf(this.#options.ldSoConf ?? LD_SO_CONF);
    return this.#conf;
  }

  /**
   * The interpreter and the closure of DT_NEEDED for the ELF at `path`,
   * in the order ld.so loads them: breadth first, each object once.
   */
  ldd(path: string): LddResult {
    const elf = this.elf(path);
    const main: Loaded = {
      entry: { name: path, path, neededBy: path, via: 'path', elf, rejected: [] },
      elf,
      loader: null,
      // At run time $ORIGIN of the program comes from /proc/self/exe: symlinks resolved.
      origin: dirname(realpathSync(path)),
    };
    const objects: SharedObject[] = [];
    if (elf.isStatic) return { path, elf, interpreter: null, objects, missing: [] };

    // ld.so(8) knows an object by the names it was asked for, its DT_SONAME
    // and its file: a second DT_NEEDED of any of them reuses it.
    const byName = new Map<string, SharedObject>();
    const byFile = new Map<string, SharedObject>();
    const fileKey = (p: string) => {
      try {
        const st = statSync(p);
        return `${st.dev}:${st.ino}`;
      } catch {
        return p;
      }
    };
    const remember = (o: SharedObject) => {
      byName.set(o.name, o);
      if (o.path) byName.set(o.path, o);
      if (o.elf?.soname) byName.set(o.elf.soname, o);
      if (o.path) byFile.set(fileKey(o.path), o);
    };
    remember(main.entry);

    let interp: SharedObject | null = null;
    if (elf.interpreter !== null) {
      interp = { name: elf.interpreter, path: null, neededBy: path, via: null, elf: null, rejected: [] };
      const why = existsSync(elf.interpreter) ? this.#mismatch(elf.interpreter, elf) : 'does not exist';
      if (why === null) Object.assign(interp, { path: elf.interpreter, via: 'interpreter', elf: this.elf(elf.interpreter) });
      else interp.rejected.push({ path: elf.interpreter, why });
      remember(interp);
    }
    // ld.so lists itself after the last object found before it was first
    // needed (rtld.c puts its map there in the search list, which leaves out
    // what was not found); never needed, it is not listed, though the kernel
    // still starts it.
    let interpAfter: SharedObject | null | undefined;
    let lastFound: SharedObject | null = null;
    const reuse = (o: SharedObject) => {
      if (o === interp && interpAfter === undefined) interpAfter = lastFound;
    };

    const queue: Loaded[] = [main];
    for (let i = 0; i < queue.length; i++) {
      const obj = queue[i]!;
      for (const name of obj.elf.needed) {
        const known = byName.get(name);
        if (known) {
          reuse(known);
          continue;
        }
        const entry = this.#search(name, obj, elf);
        const same = entry.path ? byFile.get(fileKey(entry.path)) : undefined;
        if (same) {
          // The same file under another name: ld.so adds the name to the object it has.
          byName.set(name, same);
          reuse(same);
          continue;
        }
        objects.push(entry);
        remember(entry);
        if (entry.path && entry.elf) {
          lastFound = entry;
          queue.push({ entry, elf: entry.elf, loader: obj, origin: dirname(resolve(entry.path)) });
        }
      }
    }
    if (interp && interpAfter !== undefined) objects.splice(interpAfter === null ? 0 : objects.indexOf(interpAfter) + 1, 0, interp);
    const missing = objects.filter((o) => o.path === null);
    if (interp && interp.path === null && !missing.includes(interp)) missing.unshift(interp);
    return { path, elf, interpreter: interp, objects, missing };
  }

  /** Why the ELF at `candidate` cannot serve `want` (class, byte order, machine), or null if it can. */
  #mismatch(candidate: string, want: Elf): string | null {
    let e: Elf;
    try {
      e = this.elf(candidate);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    if (e.class !== want.class || e.endian !== want.endian || e.machine !== want.machine) {
      return `${describe(e)}, not ${describe(want)}`;
    }
    return null;
  }

  /** ld.so(8) "Dynamic linking": the search for one DT_NEEDED name. */
  #search(name: string, requester: Loaded, main: Elf): SharedObject {
    const entry: SharedObject = { name, path: null, neededBy: requester.entry.path!, via: null, elf: null, rejected: [] };
    const tryPath = (p: string, via: FoundVia): boolean => {
      if (!existsSync(p) || !statSync(p).isFile()) return false;
      const why = this.#mismatch(p, main);
      if (why !== null) {
        entry.rejected.push({ path: p, why });
        return false;
      }
      Object.assign(entry, { path: p, via, elf: this.elf(p) });
      return true;
    };
    const tryDirs = (dirs: readonly string[], via: FoundVia): boolean => dirs.some((d) => tryPath(`${d.replace(/\/+$/, '')}/${name}`, via));

    // "If a shared object dependency does not contain a slash, then it is
    // searched for in the following order"; with a slash it is a path.
    if (name.includes('/')) {
      const p = expandTokens(name, requester);
      tryPath(isAbsolute(p) ? p : resolve(p), 'path');
      return entry;
    }
    // 1. DT_RPATH, unless the requester has DT_RUNPATH: the requester's, then
    //    that of each object up the chain that loaded it, then the program's.
    if (requester.elf.runpath === null) {
      for (let l: Loaded | null = requester; l; l = l.loader) {
        if (l.elf.rpath && l.elf.runpath === null && tryDirs(expandPath(l.elf.rpath, l), 'rpath')) return entry;
      }
    }
    // 2. LD_LIBRARY_PATH: deliberately not used (the container will not have the caller's).
    // 3. DT_RUNPATH: the requester's own only, never inherited.
    if (requester.elf.runpath && tryDirs(expandPath(requester.elf.runpath, requester), 'runpath')) return entry;
    // DF_1_NODEFLIB: "ignore the default search paths" (cache and system dirs).
    if (requester.elf.nodeflib) return entry;
    // 4. /etc/ld.so.cache (or, without one, the dirs ld.so.conf names).
    const cache = this.#ldCache();
    if (cache) {
      // Libraries built for a CPU level (hwcap) come after the baseline here:
      // the copy must run on whatever CPU the container meets.
      const hits = cache.filter((c) => c.name === name).sort((a, b) => Number(a.hwcap !== 0n) - Number(b.hwcap !== 0n));
      if (hits.some((c) => tryPath(c.path, 'ld.so.cache'))) return entry;
    } else if (tryDirs(this.#ldSoConf(), 'ld.so.conf')) {
      return entry;
    }
    // 5. The system dirs.
    tryDirs(this.#options.systemDirs ?? systemDirs(main.arch, main.class), 'system');
    return entry;
  }
}

/** `ldd path`: the interpreter and every shared object the program needs, in load order. */
export function ldd(path: string, options: LddOptions = {}): LddResult {
  return new LibrarySearch(options).ldd(path);
}

/** The result as `ldd` prints it, without load addresses or linux-vdso. */
export function formatLdd(result: LddResult): string {
  if (result.elf.isStatic) return '\tstatically linked\n';
  return result.objects.map((o) => {
    // ld.so prints one path for the interpreter and for a DT_NEEDED that was a path.
    if (o.path !== null && (o.via === 'interpreter' || o.via === 'path')) return `\t${o.path}\n`;
    return `\t${o.name} => ${o.path ?? 'not found'}\n`;
  }).join('');
}

function describe(e: Elf): string {
  return `ELF${e.class} ${e.endian === 'little' ? 'LSB' : 'MSB'} ${e.arch}`;
}

/** The rpath/runpath dirs with their tokens expanded, relative ones from the current directory. */
function expandPath(dirs: readonly string[], obj: Loaded): string[] {
  // An empty element means the current directory (ld.so's fillin_rpath).
  // ld.so does not normalise "..": neither do we, so paths read as `ldd` prints them.
  return dirs.map((d) => expandTokens(d === '' ? '.' : d, obj)).map((d) => (isAbsolute(d) ? d : resolve(d)));
}

/**
 * ld.so(8) "Dynamic string tokens": $ORIGIN (the object's directory), $LIB
 * (lib/<triplet> on Debian, else lib64 or lib) and $PLATFORM (the machine).
 * Any other `$NAME` stays as written, as in glibc.
 */
function expandTokens(s: string, obj: Loaded): string {
  const triplet = multiarchTriplet(obj.elf.arch, obj.elf.class);
  const lib = triplet ? `lib/${triplet}` : obj.elf.class === 64 ? 'lib64' : 'lib';
  const platform = obj.elf.arch === 'i386' ? 'i686' : obj.elf.arch;
  const tokens: Record<string, string> = { ORIGIN: obj.origin, LIB: lib, PLATFORM: platform };
  return s.replace(/\$(?:\{(\w+)\}|(\w+))/g, (all, braced: string | undefined, bare: string | undefined) => tokens[braced ?? bare ?? ''] ?? all);
}

/** A program needs shared objects (or an interpreter) that cannot be found, as `ldd` shows "not found". */
export class LibraryNotFoundError extends NskError {
  /** The program. */
  readonly binary: string;
  readonly missing: SharedObject[];
  constructor(result: LddResult) {
    const lines = result.missing.map((m) => {
      const passed = m.rejected.map((r) => `; passed over ${r.path}: ${r.why}`).join('');
      const what = m === result.interpreter ? `${m.name} (the program interpreter, PT_INTERP) => not found` : `${m.name} => not found`;
      return `\t${what} (needed by ${m.neededBy}${passed})`;
    });
    super(`${result.path}: ${result.missing.length === 1 ? 'a shared object is' : 'shared objects are'} not found:\n${lines.join('\n')}`, 'ERR_NSK_LIBRARY_NOT_FOUND');
    this.binary = result.path;
    this.missing = result.missing;
  }
}
