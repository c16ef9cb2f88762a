// An ELF file's header, program headers and dynamic section: all that the
// kernel and ld.so(8) read to learn what a program needs before it runs
// (elf(5)). ELF32 and ELF64, either byte order; only the parts that are
// asked for are read, so a 100 MB library costs a few small reads.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { NskError, SyscallError } from '@nsk/syscall';
import { machineName } from './elf-machine.ts';

export type ElfClass = 32 | 64;
export type ElfEndian = 'little' | 'big';
/** e_type: relocatable object, executable, shared object (or PIE), core dump. */
export type ElfType = 'rel' | 'exec' | 'dyn' | 'core' | 'other';

export interface Elf {
  /** The path it was read from (or the name given to parseElf). */
  path: string;
  class: ElfClass;
  endian: ElfEndian;
  /** e_machine: 62 for x86_64, 183 for aarch64 (elf(5)). */
  machine: number;
  /** A readable name for `machine`: `'x86_64'`, `'aarch64'`, `'i386'`, or `'EM_1234'`. */
  arch: string;
  /** EI_OSABI: 0 (System V) or 3 (GNU/Linux) for Linux programs. */
  osabi: number;
  type: ElfType;
  /** PT_INTERP: the program interpreter the kernel starts first, or null. */
  interpreter: string | null;
  /** True when a PT_DYNAMIC segment is present. */
  dynamic: boolean;
  /** No interpreter and no DT_NEEDED: runs on its own (as `ldd` says, "statically linked"). */
  isStatic: boolean;
  /** DT_NEEDED, in order. */
  needed: string[];
  /** DT_SONAME, or null. */
  soname: string | null;
  /** DT_RPATH split on ':', or null when absent. */
  rpath: string[] | null;
  /** DT_RUNPATH split on ':', or null when absent. */
  runpath: string[] | null;
  /** DT_FLAGS_1 has DF_1_NODEFLIB: ld.so skips ld.so.cache and the system dirs for its needs. */
  nodeflib: boolean;
}

export type ElfErrorReason = 'not-elf' | 'truncated' | 'malformed' | 'unsupported';

/** A file that is not an ELF file nsk can read; `path` names it. */
export class ElfError extends NskError {
  readonly path: string;
  readonly reason: ElfErrorReason;
  constructor(path: string, reason: ElfErrorReason, detail: string) {
    super(`${path}: ${detail}`, `ERR_NSK_ELF_${reason.toUpperCase().replace('-', '_')}`);
    this.path = path;
    this.reason = reason;
  }
}

// elf(5) constants.
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PN_XNUM = 0xffff;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
const DT_SONAME = 14n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;
const DT_FLAGS_1 = 0x6ffffffbn;
const DF_1_NODEFLIB = 0x800n;
const TYPES: Record<number, ElfType> = { 1: 'rel', 2: 'exec', 3: 'dyn', 4: 'core' };

/** Reads `length` bytes at `offset`; fewer when the file ends first. */
type ReadAt = (offset: number, length: number) => Uint8Array;

/** Bounds-checked little/big-endian fields over a reader. */
class Fields {
  readonly path: string;
  readonly little: boolean;
  readonly wide: boolean;
  readonly #read: ReadAt;
  constructor(path: string, read: ReadAt, little: boolean, wide: boolean) {
    this.path = path;
    this.#read = read;
    this.little = little;
    this.wide = wide;
  }

  bytes(offset: number | bigint, length: number | bigint, what: string): DataView {
    const off = Number(offset);
    const len = Number(length);
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len < 0 || len > 1 << 30) {
      throw new ElfError(this.path, 'malformed', `${what} at offset ${String(offset)} (${String(length)} bytes) is out of range`);
    }
    const b = this.#read(off, len);
    if (b.length < len) throw new ElfError(this.path, 'truncated', `truncated: ${what} needs bytes ${off}..${off + len}, the file ends at ${off + b.length}`);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  u16(v: DataView, at: number): number {
    return v.getUint16(at, this.little);
  }
  u32(v: DataView, at: number): number {
    return v.getUint32(at, this.little);
  }
  /** A word: 4 bytes in ELF32, 8 in ELF64. */
  word(v: DataView, at: number): bigint {
    return this.wide ? v.getBigUint64(at, this.little) : BigInt(v.getUint32(at, this.little));
  }
  sword(v: DataView, at: number): bigint {
    return this.wide ? v.getBigInt64(at, this.little) : BigInt(v.getInt32(at, this.little));
  }
}

interface Segment {
  type: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
}

/** Parses the ELF file whose bytes are `bytes` (`path` only names it in errors). */
export function parseElf(bytes: Uint8Array, path = '<bytes>'): Elf {
  return parse(path, (offset, length) => bytes.subarray(offset, offset + length));
}

/** Reads and parses the ELF file at `path`, reading only the parts needed. */
export function readElf(path: string): Elf {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fsError(err, path, 'open an ELF file');
  }
  try {
    try {
      if (!fstatSync(fd).isFile()) throw new ElfError(path, 'not-elf', 'not an ELF file (not a regular file)');
    } catch (err) {
      throw err instanceof ElfError ? err : fsError(err, path, 'stat an ELF file');
    }
    return parse(path, (offset, length) => {
      const buf = Buffer.alloc(length);
      let got = 0;
      try {
        while (got < length) {
          const n = readSync(fd, buf, got, length - got, offset + got);
          if (n === 0) break;
          got += n;
        }
      } catch (err) {
        throw fsError(err, path, 'read an ELF file');
      }
      return buf.subarray(0, got);
    });
  } finally {
    closeSync(fd);
  }
}

/** True when the first bytes of `head` are the ELF magic number. */
export function hasElfMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

function parse(path: string, read: ReadAt): Elf {
  const ident = read(0, 16);
  if (!hasElfMagic(ident)) {
    const shown = Buffer.from(ident.subarray(0, 4)).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
    throw new ElfError(path, 'not-elf', ident.length === 0 ? 'not an ELF file (empty)' : `not an ELF file (starts with ${JSON.stringify(shown)}, not "\\x7fELF")`);
  }
  if (ident.length < 16) throw new ElfError(path, 'truncated', `truncated: the ELF identification needs 16 bytes, the file has ${ident.length}`);
  const klass = ident[4];
  const data = ident[5];
  if (klass !== 1 && klass !== 2) throw new ElfError(path, 'unsupported', `unknown ELF class ${klass} (EI_CLASS: 1 is ELF32, 2 is ELF64)`);
  if (data !== 1 && data !== 2) throw new ElfError(path, 'unsupported', `unknown ELF byte order ${data} (EI_DATA: 1 is little-endian, 2 is big-endian)`);
  const wide = klass === 2;
  const f = new Fields(path, read, data === 1, wide);

  // elf(5): Elf64_Ehdr is 64 bytes, Elf32_Ehdr 52.
  const eh = f.bytes(0, wide ? 64 : 52, 'the ELF header');
  const type = f.u16(eh, 16);
  const machine = f.u16(eh, 18);
  const phoff = f.word(eh, wide ? 32 : 28);
  const shoff = f.word(eh, wide ? 40 : 32);
  const phentsize = f.u16(eh, wide ? 54 : 42);
  let phnum = f.u16(eh, wide ? 56 : 44);
  if (phnum === PN_XNUM) {
    // elf(5): with more than 0xfffe program headers, the real count is in
    // sh_info of section header 0.
    const sh0 = f.bytes(shoff, wide ? 64 : 40, 'section header 0 (PN_XNUM)');
    phnum = f.u32(sh0, wide ? 44 : 28);
  }
  const minPh = wide ? 56 : 32;
  if (phnum > 0 && phentsize < minPh) throw new ElfError(path, 'malformed', `program header size ${phentsize} is smaller than ${minPh}`);

  const segments: Segment[] = [];
  if (phnum > 0) {
    const ph = f.bytes(phoff, phentsize * phnum, `${phnum} program headers`);
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      // Elf64_Phdr: type, flags, offset, vaddr, paddr, filesz…; Elf32_Phdr: type, offset, vaddr, paddr, filesz…
      segments.push(wide
        ? { type: f.u32(ph, at), offset: f.word(ph, at + 8), vaddr: f.word(ph, at + 16), filesz: f.word(ph, at + 32) }
        : { type: f.u32(ph, at), offset: f.word(ph, at + 4), vaddr: f.word(ph, at + 8), filesz: f.word(ph, at + 16) });
    }
  }

  const interpSeg = segments.find((s) => s.type === PT_INTERP);
  const interpreter = interpSeg ? cString(f.bytes(interpSeg.offset, interpSeg.filesz, 'PT_INTERP'), 0) : null;
  const dynSeg = segments.find((s) => s.type === PT_DYNAMIC);
  const dyn = dynSeg ? dynamicSection(f, dynSeg, segments) : { needed: [], soname: null, rpath: null, runpath: null, nodeflib: false };

  return {
    path,
    class: wide ? 64 : 32,
    endian: f.little ? 'little' : 'big',
    machine,
    arch: machineName(machine, wide ? 64 : 32, f.little ? 'little' : 'big'),
    osabi: ident[7]!,
    type: TYPES[type] ?? 'other',
    interpreter,
    dynamic: dynSeg !== undefined,
    isStatic: interpreter === null && dyn.needed.length === 0,
    ...dyn,
  };
}

type Dynamic = Pick<Elf, 'needed' | 'soname' | 'rpath' | 'runpath' | 'nodeflib'>;

function dynamicSection(f: Fields, seg: Segment, segments: readonly Segment[]): Dynamic {
  const entsize = f.wide ? 16 : 8;
  const count = Math.floor(Number(seg.filesz) / entsize);
  const v = f.bytes(seg.offset, count * entsize, 'the dynamic section (PT_DYNAMIC)');
  const entries: Array<[bigint, bigint]> = [];
  for (let i = 0; i < count; i++) {
    const tag = f.sword(v, i * entsize);
    if (tag === DT_NULL) break;
    entries.push([tag, f.word(v, i * entsize + entsize / 2)]);
  }
  const val = (tag: bigint) => entries.find(([t]) => t === tag)?.[1];
  const strtabAddr = val(DT_STRTAB);
  const strsz = val(DT_STRSZ);
  const names = entries.filter(([t]) => t === DT_NEEDED || t === DT_SONAME || t === DT_RPATH || t === DT_RUNPATH);
  let strtab: DataView | null = null;
  if (names.length > 0) {
    if (strtabAddr === undefined) throw new ElfError(f.path, 'malformed', 'the dynamic section names libraries but has no DT_STRTAB');
    // DT_STRTAB is a virtual address: the PT_LOAD segment holding it maps it
    // back to a file offset (elf(5): p_offset + (addr - p_vaddr)).
    const load = segments.find((s) => s.type === PT_LOAD && s.vaddr <= strtabAddr && strtabAddr < s.vaddr + s.filesz);
    if (!load) throw new ElfError(f.path, 'malformed', `DT_STRTAB 0x${strtabAddr.toString(16)} lies in no PT_LOAD segment`);
    const offset = load.offset + (strtabAddr - load.vaddr);
    const room = load.vaddr + load.filesz - strtabAddr;
    strtab = f.bytes(offset, strsz !== undefined && strsz < room ? strsz : room, 'the dynamic string table (DT_STRTAB)');
  }
  const str = (at: bigint) => {
    if (at >= BigInt(strtab!.byteLength)) throw new ElfError(f.path, 'malformed', `a dynamic string at ${at} lies past the string table (${strtab!.byteLength} bytes)`);
    return cString(strtab!, Number(at));
  };
  const one = (tag: bigint) => {
    const at = val(tag);
    return at === undefined ? null : str(at);
  };
  const path = (tag: bigint) => {
    const s = one(tag);
    return s === null ? null : s.split(':');
  };
  return {
    needed: entries.filter(([t]) => t === DT_NEEDED).map(([, v]) => str(v)),
    soname: one(DT_SONAME),
    rpath: path(DT_RPATH),
    runpath: path(DT_RUNPATH),
    nodeflib: ((val(DT_FLAGS_1) ?? 0n) & DF_1_NODEFLIB) !== 0n,
  };
}

function cString(v: DataView, at: number): string {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let end = bytes.indexOf(0, at);
  if (end < 0) end = bytes.length;
  return Buffer.from(bytes.subarray(at, end)).toString('utf8');
}

/** A Node fs error as a SyscallError naming the call, the step and the path. */
export function fsError(err: unknown, path: string, step: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.errno !== 'number' || typeof e.syscall !== 'string') return err;
  return new SyscallError({ step, syscall: e.syscall, errno: -e.errno, path, cause: err });
}
