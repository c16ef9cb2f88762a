// Copies a host path into a new root at the same path. The path is walked
// one component at a time, as the kernel resolves it (path_resolution(7)):
// each symlink met on the way is recreated as the same link and what it
// points to is copied too, so the path resolves inside the root as it does
// on the host — /lib64 -> usr/lib64, then the absolute link
// /usr/lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/…, then the file.
//
// Nothing is ever written through a link: every directory created is a real
// directory of the new root, and a link is only ever followed on the host.
import { chmodSync, constants, copyFileSync, lchownSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, type Stats } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { NskError, SyscallError, errnoNumber } from '@nsk/syscall';
import { fsError } from './elf.ts';

/** path_resolution(7): "a maximum of 40 symbolic links" per resolution. */
const MAX_LINKS = 40;

export interface CopyOptions {
  /** Copy a directory's contents too (otherwise only the directory). */
  recursive?: boolean;
}

/** Copies the host's `path` (absolute) to `root + path`, keeping every link on the way. */
export class HostCopier {
  readonly root: string;
  readonly #done = new Set<string>();
  /** Directories whose contents were copied: a link back up (/usr/bin/X11 -> .) must not loop. */
  readonly #walked = new Set<string>();
  readonly #chown = process.getuid?.() === 0;
  /** Host paths of the regular files copied, in order. */
  readonly files: string[] = [];
  /** Host paths of the links made, in order. */
  readonly links: string[] = [];

  constructor(root: string) {
    this.root = root;
  }

  copy(path: string, options: CopyOptions = {}): void {
    if (!isAbsolute(path)) throw new NskError(`${path}: give an absolute host path to copy`, 'ERR_NSK_INVALID');
    this.#place(path, options.recursive ?? false, 0, path);
  }

  #place(path: string, recursive: boolean, links: number, asked: string): void {
    if (links > MAX_LINKS) throw new SyscallError({ step: `copy ${asked} into the root`, syscall: 'readlink', errno: errnoNumber('ELOOP'), path: asked });
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    // `cur` is always a real host directory: no link in it, so ".." is its parent.
    let cur = '/';
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '..') {
        cur = dirname(cur);
        continue;
      }
      const host = cur === '/' ? `/${part}` : `${cur}/${part}`;
      const st = this.#lstat(host, asked);
      const dest = this.root + host;
      const rest = parts.slice(i + 1);
      if (st.isSymbolicLink()) {
        const target = readlinkSync(host);
        this.#link(host, dest, target);
        const next = isAbsolute(target) ? target : `${cur}/${target}`;
        this.#place([next, ...rest].join('/'), recursive, links + 1, asked);
        return;
      }
      if (rest.length > 0) {
        if (!st.isDirectory()) throw new SyscallError({ step: `copy ${asked} into the root`, syscall: 'open', errno: errnoNumber('ENOTDIR'), path: host });
        this.#dir(host, dest, st);
        cur = host;
        continue;
      }
      this.#entry(host, dest, st, recursive, asked);
      return;
    }
    // The path was "/" itself (or resolved to it).
    if (recursive) for (const name of readdirSync('/')) this.#place(`/${name}`, true, links, asked);
  }

  #entry(host: string, dest: string, st: Stats, recursive: boolean, asked: string): void {
    if (st.isDirectory()) {
      this.#dir(host, dest, st);
      if (recursive && !this.#walked.has(host)) {
        this.#walked.add(host);
        let names: string[];
        try {
          names = readdirSync(host);
        } catch (err) {
          throw fsError(err, host, `copy ${asked} into the root`);
        }
        for (const name of names.sort()) {
          const child = `${host}/${name}`;
          const cst = this.#lstat(child, asked);
          // Sockets, fifos and device nodes are not copied from inside a directory.
          if (cst.isFile() || cst.isDirectory() || cst.isSymbolicLink()) this.#place(child, true, 0, asked);
        }
      }
      return;
    }
    if (!st.isFile()) throw new NskError(`${host}: not a regular file, directory or symlink; device nodes belong to the container's /dev`, 'ERR_NSK_ROOTFS_FILE_TYPE');
    if (this.#done.has(host)) return;
    this.#done.add(host);
    try {
      // A reflink where the filesystem can (the copy shares blocks until
      // written), a real copy otherwise; never a hard link, which would let
      // the container write to the host's file.
      copyFileSync(host, dest, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
      this.#own(dest, st);
    } catch (err) {
      throw fsError(err, host, `copy ${host} into the root`);
    }
    this.files.push(host);
  }

  #dir(host: string, dest: string, st: Stats): void {
    if (this.#done.has(host)) return;
    this.#done.add(host);
    try {
      mkdirSync(dest);
      this.#own(dest, st);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && lstatSync(dest).isDirectory()) return;
      throw fsError(err, dest, `make directory ${host} in the root`);
    }
  }

  #link(host: string, dest: string, target: string): void {
    if (this.#done.has(host)) return;
    this.#done.add(host);
    try {
      symlinkSync(target, dest);
      if (this.#chown) {
        const st = lstatSync(host);
        lchownSync(dest, st.uid, st.gid);
      }
    } catch (err) {
      throw fsError(err, dest, `link ${host} -> ${target} in the root`);
    }
    this.links.push(host);
  }

  #own(dest: string, st: Stats): void {
    // chown(2) clears set-user-ID and set-group-ID: own first, then chmod.
    if (this.#chown) lchownSync(dest, st.uid, st.gid);
    chmodSync(dest, st.mode & 0o7777);
  }

  #lstat(host: string, asked: string): Stats {
    try {
      return lstatSync(host);
    } catch (err) {
      throw fsError(err, host, `copy ${asked} into the root`);
    }
  }
}
