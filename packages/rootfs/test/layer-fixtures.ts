// Helpers for the layer tests: archives packed with tar-stream, GNU tar as
// the reference extractor, and a walk that records everything an extracted
// tree is (type, mode, owner, mtime in ns, contents, link targets, hard-link
// groups, xattrs, device numbers) so that two trees compare in one call.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { Arena, hostArch, lastErrno, libc } from '@nsk/syscall';

export interface Spec {
  name: string;
  type?: 'file' | 'link' | 'symlink' | 'directory' | 'character-device' | 'block-device' | 'fifo';
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  content?: string | Buffer;
  /** Extra PAX records (tar-stream writes `path` first, so a `path` here wins). */
  pax?: Record<string, string>;
  devmajor?: number;
  devminor?: number;
}

const EPOCH = new Date(1_600_000_000_000);

/** A tar archive of `specs`, in order, as tar-stream packs it. */
export async function pack(specs: Spec[]): Promise<Buffer> {
  const p = tar.pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve, reject) => { p.on('end', resolve); p.on('error', reject); });
  for (const s of specs) {
    const type = s.type ?? 'file';
    const header = {
      name: s.name, type, mode: s.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: s.uid ?? 0, gid: s.gid ?? 0,
      mtime: s.mtime ?? EPOCH, linkname: s.linkname ?? '', devmajor: s.devmajor ?? 0, devminor: s.devminor ?? 0,
      ...(s.pax ? { pax: s.pax } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (type === 'file') p.entry(header, s.content ?? '', cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** `buf` handed out in chunks of `size` bytes (headers then straddle chunk edges). */
export async function* chunked(buf: Buffer, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, Math.min(buf.length, i + size));
}

/** A fresh temporary directory; `done()` removes it. */
export function tempDir(tag: string): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `nsk-layer-${tag}-`));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** GNU tar extracting `archive` (a file) into `dir` as root would: owners, modes, xattrs. */
export function gnuExtract(archive: string, dir: string): void {
  const r = spawnSync('tar', ['-xpf', archive, '-C', dir, '--numeric-owner', '--xattrs', '--xattrs-include=*'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar -x failed (${r.status}): ${r.stderr}`);
}

/** GNU tar packing directory `dir` into `archive`. */
export function gnuCreate(dir: string, archive: string, format: 'posix' | 'gnu', extra: string[] = []): void {
  const r = spawnSync('tar', ['-cf', archive, `--format=${format}`, '--xattrs', '--xattrs-include=*', '--numeric-owner', '-C', dir, ...extra, '.'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar -c failed (${r.status}): ${r.stderr}`);
}

export function writeTemp(dir: string, name: string, data: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

// --- xattrs, read with the raw system calls (no attr(1) needed) -------------

const XATTR_NR = {
  x86_64: { llistxattr: 195, lgetxattr: 192 },
  aarch64: { llistxattr: 12, lgetxattr: 9 },
}[hostArch];
let arena: Arena | undefined;

/** Every xattr of `path` (not following a symlink), values as hex. */
export function xattrsOf(path: string | Buffer): Record<string, string> {
  arena ??= Arena.map(4096 + 65536 + 65536);
  const bytes = Buffer.from(arena.bytes.buffer, arena.bytes.byteOffset, arena.bytes.byteLength);
  const pathAt = 0;
  const listAt = 4096;
  const valueAt = 4096 + 65536;
  const p = typeof path === 'string' ? Buffer.from(path) : path;
  bytes.set(p, pathAt);
  bytes[pathAt + p.length] = 0;
  const call = libc().syscall;
  const len = Number(call(XATTR_NR.llistxattr, arena.address + BigInt(pathAt), arena.address + BigInt(listAt), 65536, 0, 0, 0));
  if (len < 0) throw new Error(`llistxattr ${path}: errno ${lastErrno()}`);
  const out: Record<string, string> = {};
  for (const name of bytes.subarray(listAt, listAt + len).toString('latin1').split('\0').filter(Boolean)) {
    const n = Buffer.from(name, 'latin1');
    const nameAt = listAt; // the list is consumed; reuse its space for the name
    bytes.set(n, nameAt);
    bytes[nameAt + n.length] = 0;
    const v = Number(call(XATTR_NR.lgetxattr, arena.address + BigInt(pathAt), arena.address + BigInt(nameAt), arena.address + BigInt(valueAt), 65536, 0, 0));
    if (v < 0) throw new Error(`lgetxattr ${path} ${name}: errno ${lastErrno()}`);
    out[name] = bytes.subarray(valueAt, valueAt + v).toString('hex');
  }
  return out;
}

// --- tree snapshots -----------------------------------------------------------

export interface Node {
  type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
  mode: string;
  uid: number;
  gid: number;
  /** mtime in ns, as a decimal string (directories and everything else). */
  mtime: string;
  size?: number;
  sha256?: string;
  target?: string;
  rdev?: string;
  /** The first path (in walk order) sharing this inode: hard links agree on it. */
  inode?: string;
  xattrs: Record<string, string>;
}

/**
 * Everything under `root`, keyed by relative path as a binary string (one
 * char per byte); root itself (key '') only with `rootAttrs`.
 */
export function snapshot(root: string, opts: { rootAttrs?: boolean } = {}): Map<string, Node> {
  const out = new Map<string, Node>();
  const inodes = new Map<bigint, string>();
  const walk = (rel: string) => {
    const absB = rel === '' ? Buffer.from(root) : Buffer.concat([Buffer.from(`${root}/`), Buffer.from(rel, 'latin1')]);
    const st = lstatSync(absB, { bigint: true });
    const fmt = Number(st.mode) & 0o170000;
    const type = fmt === 0o040000 ? 'dir' : fmt === 0o100000 ? 'file' : fmt === 0o120000 ? 'symlink'
      : fmt === 0o020000 ? 'char' : fmt === 0o060000 ? 'block' : fmt === 0o010000 ? 'fifo' : 'socket';
    const n: Node = {
      type, mode: (Number(st.mode) & 0o7777).toString(8), uid: Number(st.uid), gid: Number(st.gid),
      mtime: st.mtimeNs.toString(), xattrs: xattrsOf(absB),
    };
    if (type === 'file') {
      n.size = Number(st.size);
      n.sha256 = createHash('sha256').update(readFileSync(absB)).digest('hex');
      const first = inodes.get(st.ino);
      n.inode = first ?? rel;
      if (first === undefined) inodes.set(st.ino, rel);
    }
    if (type === 'symlink') n.target = readlinkSync(absB, { encoding: 'buffer' }).toString('latin1');
    if (type === 'char' || type === 'block') n.rdev = st.rdev.toString();
    if (rel !== '' || opts.rootAttrs) out.set(rel, n);
    if (type === 'dir') {
      for (const child of readdirSync(absB, { encoding: 'buffer' }).sort(Buffer.compare)) {
        walk(rel === '' ? child.toString('latin1') : `${rel}/${child.toString('latin1')}`);
      }
    }
  };
  walk('');
  return out;
}

/** The differences between two snapshots, one line each ([] when equal). */
export function diffTrees(ours: Map<string, Node>, theirs: Map<string, Node>): string[] {
  const d: string[] = [];
  for (const [p, a] of ours) {
    const b = theirs.get(p);
    if (!b) { d.push(`only in ours: ${p}`); continue; }
    const sa = JSON.stringify(a);
    const sb = JSON.stringify(b);
    if (sa !== sb) d.push(`${p}: ours ${sa} gnutar ${sb}`);
  }
  for (const p of theirs.keys()) if (!ours.has(p)) d.push(`only in gnutar: ${p}`);
  return d;
}

/** The open fds of this process (for "no fd leaked"). */
export function openFds(): string[] {
  return readdirSync('/proc/self/fd').sort();
}

// --- a source tree with one of everything ----------------------------------

const SETXATTR_NR = { x86_64: 189, aarch64: 6 }[hostArch]; // lsetxattr

/** lsetxattr(2) with raw bytes (security.capability is binary). */
export function setXattr(path: string, name: string, value: Buffer): void {
  arena ??= Arena.map(4096 + 65536 + 65536);
  const bytes = Buffer.from(arena.bytes.buffer, arena.bytes.byteOffset, arena.bytes.byteLength);
  const p = Buffer.from(`${path}\0`);
  const n = Buffer.from(`${name}\0`);
  bytes.set(p, 0);
  bytes.set(n, 4096);
  bytes.set(value, 8192);
  const r = Number(libc().syscall(SETXATTR_NR, arena.address, arena.address + 4096n, arena.address + 8192n, value.length, 0, 0));
  if (r < 0) throw new Error(`lsetxattr ${path} ${name}: errno ${lastErrno()}`);
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/**
 * Builds, under `dir`, a tree with every kind of entry an image layer can
 * carry: modes with setuid/setgid/sticky (also on files owned by others),
 * owners (one past the 21-bit octal field), absolute/relative/dangling
 * symlinks, hard links, a FIFO, char and block devices (a minor above 255),
 * xattrs (user, trusted, binary security.capability), ns mtimes (one before
 * 1970), names past 100 and 255 bytes, a non-UTF-8 name, empty and 1 MiB
 * files.
 */
export function buildTree(dir: string): void {
  const sh = (script: string) => run('sh', ['-ec', script, 'sh', dir]);
  sh(`cd "$1"
    mkdir -p bin tmp home/user etc usr/lib usr/share/doc run dev opt/a/b
    printf 'prog' > bin/prog && chmod 4755 bin/prog
    printf 'sgid' > bin/sgid && chown 0:50 bin/sgid && chmod 2755 bin/sgid
    printf 'su' > bin/su1000 && chown 1000:1000 bin/su1000 && chmod 6750 bin/su1000
    printf 'ping' > bin/ping && chmod 755 bin/ping
    chmod 1777 tmp
    printf 'export X=1\\n' > home/user/.profile && chmod 600 home/user/.profile
    chown -R 1000:1000 home/user && chmod 700 home/user
    printf 'root:x:0:0::/root:/bin/sh\\n' > etc/passwd
    printf 'big' > etc/bigid && chown 3000000:3000001 etc/bigid
    : > etc/empty
    head -c 1048577 /dev/zero | tr '\\0' 'z' > usr/lib/libx.so.1
    ln usr/lib/libx.so.1 usr/lib/libx-hard
    ln usr/lib/libx.so.1 opt/a/b/third-link
    ln -s usr/lib lib
    ln -s /etc/passwd abs-link
    ln -s nowhere/at/all dangling
    ln -s ../../etc/passwd usr/share/up-link
    chown -h 1000:1000 dangling
    mkfifo run/fifo && chmod 620 run/fifo
    mknod dev/null c 1 3 && chmod 666 dev/null
    mknod dev/loop300 b 7 300 && chmod 660 dev/loop300 && chown 0:6 dev/loop300
    mkdir -p "usr/share/doc/$(printf 'x%.0s' $(seq 1 120))"
    printf 'deep' > "usr/share/doc/$(printf 'x%.0s' $(seq 1 120))/$(printf 'y%.0s' $(seq 1 200))"
    printf 'latin1' > "$(printf 'c\\351.txt')"
  `);
  setXattr(join(dir, 'usr/lib/libx.so.1'), 'user.comment', Buffer.from('hello'));
  setXattr(join(dir, 'etc'), 'trusted.nsk', Buffer.from('dir-xattr'));
  // VFS_CAP_REVISION_2: magic, then permitted/inheritable words: CAP_NET_RAW (13).
  setXattr(join(dir, 'bin/ping'), 'security.capability', Buffer.from([0x00, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  // mtimes last (children change their directory's), with nanoseconds.
  sh(`cd "$1"
    touch -h -d '2001-02-03 04:05:06.123456789 UTC' abs-link bin/prog
    touch -d '1969-07-20 20:17:40 UTC' etc/passwd
    touch -d '2020-01-01 00:00:00.5 UTC' usr/lib/libx.so.1
    for d in bin tmp home/user etc usr/lib usr/share/doc usr/share usr run dev opt/a/b opt/a opt .; do touch -d '2010-10-10 10:10:10 UTC' "$d"; done
  `);
}
