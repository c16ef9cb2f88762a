// Tiny ELF files written byte by byte (elf(5)), for the tests: any class,
// byte order and machine, with a PT_INTERP and a dynamic section. The one
// PT_LOAD maps the whole file at address 0 (writable: ld.so adjusts the
// dynamic section in place), so ld.so itself can trace them (`ldd`).
import { chmodSync, writeFileSync } from 'node:fs';

export interface ElfSpec {
  class?: 32 | 64;
  endian?: 'little' | 'big';
  /** e_machine; default 62 (x86_64). */
  machine?: number;
  /** e_type; default 3 (ET_DYN). */
  type?: number;
  interpreter?: string;
  needed?: string[];
  soname?: string;
  rpath?: string;
  runpath?: string;
  flags1?: number;
  /** Put DT_STRTAB at this address instead of where the table is (for a malformed file). */
  strtabAddr?: number;
}

const EM_X86_64 = 62;

export function makeElf(spec: ElfSpec): Uint8Array {
  const wide = (spec.class ?? 64) === 64;
  const little = (spec.endian ?? 'little') === 'little';
  const ehsize = wide ? 64 : 52;
  const phentsize = wide ? 56 : 32;
  const dynentsize = wide ? 16 : 8;

  // The dynamic string table: offsets of each string.
  const strings: string[] = [];
  const strOffsets = new Map<string, number>();
  let strLen = 1;
  const strOf = (s: string) => {
    if (!strOffsets.has(s)) {
      strOffsets.set(s, strLen);
      strings.push(s);
      strLen += Buffer.byteLength(s) + 1;
    }
    return strOffsets.get(s)!;
  };
  const dyn: Array<[number, number | 'strtab' | 'strsz']> = [];
  for (const n of spec.needed ?? []) dyn.push([1, strOf(n)]);
  if (spec.soname !== undefined) dyn.push([14, strOf(spec.soname)]);
  if (spec.rpath !== undefined) dyn.push([15, strOf(spec.rpath)]);
  if (spec.runpath !== undefined) dyn.push([29, strOf(spec.runpath)]);
  const hasDynamic = dyn.length > 0 || spec.flags1 !== undefined;
  if (hasDynamic) {
    dyn.push([5, 'strtab'], [10, 'strsz']);
    if (spec.flags1 !== undefined) dyn.push([0x6ffffffb, spec.flags1]);
    dyn.push([0, 0]);
  }

  const phnum = (spec.interpreter !== undefined ? 1 : 0) + 1 + (hasDynamic ? 1 : 0);
  let at = ehsize + phnum * phentsize;
  const interpOff = at;
  const interpLen = spec.interpreter !== undefined ? Buffer.byteLength(spec.interpreter) + 1 : 0;
  at += interpLen;
  const strtabOff = at;
  at += strLen;
  at = (at + 7) & ~7;
  const dynOff = at;
  at += dyn.length * dynentsize;
  const size = at;

  const b = Buffer.alloc(size);
  const u16 = (v: number, o: number) => (little ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const u32 = (v: number, o: number) => (little ? b.writeUInt32LE(v >>> 0, o) : b.writeUInt32BE(v >>> 0, o));
  const word = (v: number, o: number) => (wide ? (little ? b.writeBigUInt64LE(BigInt(v), o) : b.writeBigUInt64BE(BigInt(v), o)) : u32(v, o));

  b.set([0x7f, 0x45, 0x4c, 0x46, wide ? 2 : 1, little ? 1 : 2, 1, 0]);
  u16(spec.type ?? 3, 16);
  u16(spec.machine ?? EM_X86_64, 18);
  u32(1, 20);
  word(0, wide ? 24 : 24); // e_entry
  word(ehsize, wide ? 32 : 28); // e_phoff
  word(0, wide ? 40 : 32); // e_shoff
  u16(ehsize, wide ? 52 : 40);
  u16(phentsize, wide ? 54 : 42);
  u16(phnum, wide ? 56 : 44);
  u16(wide ? 64 : 40, wide ? 58 : 46); // e_shentsize

  let ph = ehsize;
  const phdr = (type: number, flags: number, offset: number, filesz: number, align: number) => {
    if (wide) {
      u32(type, ph); u32(flags, ph + 4); word(offset, ph + 8); word(offset, ph + 16); word(offset, ph + 24);
      word(filesz, ph + 32); word(filesz, ph + 40); word(align, ph + 48);
    } else {
      u32(type, ph); u32(offset, ph + 4); u32(offset, ph + 8); u32(offset, ph + 12);
      u32(filesz, ph + 16); u32(filesz, ph + 20); u32(flags, ph + 24); u32(align, ph + 28);
    }
    ph += phentsize;
  };
  if (spec.interpreter !== undefined) phdr(3, 4, interpOff, interpLen, 1);
  phdr(1, 6, 0, size, 0x1000);
  if (hasDynamic) phdr(2, 6, dynOff, dyn.length * dynentsize, 8);

  if (spec.interpreter !== undefined) b.write(spec.interpreter, interpOff);
  for (const s of strings) b.write(s, strtabOff + strOffsets.get(s)!);
  dyn.forEach(([tag, v], i) => {
    const o = dynOff + i * dynentsize;
    const val = v === 'strtab' ? spec.strtabAddr ?? strtabOff : v === 'strsz' ? strLen : v;
    word(tag, o);
    word(val, o + dynentsize / 2);
  });
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Writes `makeElf(spec)` to `path`, executable. */
export function writeElf(path: string, spec: ElfSpec): string {
  writeFileSync(path, makeElf(spec));
  chmodSync(path, 0o755);
  return path;
}
