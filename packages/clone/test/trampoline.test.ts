// The trampolines, tested as machine code: the committed bytes must be what the
// sources assemble to, and the sources, linked into a tiny static ELF
// (test/fixtures/harness-*.S) that reads a plan from stdin into memory at
// 0x10000000, must walk that plan as the layout contract says. aarch64 runs
// under qemu-aarch64-static. Plans are built here with a DataView, not with
// the project's plan builder, so the test checks the layout independently.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AARCH64_TRAMPOLINE_HEX } from '../src/trampoline/aarch64.ts';
import { X86_64_TRAMPOLINE_HEX } from '../src/trampoline/x86_64.ts';

// ---- the plan layout, written out by hand ----------------------------------

const BASE = 0x1000_0000n; // where the harness puts the plan
const HEADER = 16;
const STEP = 64;
const SLOTS = 0x800; // result slots, 8 bytes each, below the data
const DATA = 0x1000; // strings and other data
const SIZE = 0x2000;

interface Step {
  nr: number;
  args?: readonly (number | bigint)[];
  tolerate?: number;
  indirect?: number;
  zeroFails?: boolean;
  result?: number; // offset in the plan
}

const END: Step = { nr: -1 };

function plan(errorFd: number, steps: readonly Step[], data: readonly (readonly [number, Uint8Array])[] = []): Buffer {
  const bytes = new Uint8Array(SIZE);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(errorFd), true);
  steps.forEach((step, i) => {
    const at = HEADER + i * STEP;
    if (at + STEP > SLOTS) throw new Error('too many steps for this test plan');
    view.setBigInt64(at, BigInt(step.nr), true);
    (step.args ?? []).forEach((arg, j) => view.setBigUint64(at + 8 + 8 * j, BigInt.asUintN(64, BigInt(arg)), true));
    view.setUint16(at + 56, step.tolerate ?? 0, true);
    view.setUint8(at + 58, step.indirect ?? 0);
    view.setUint8(at + 59, step.zeroFails ? 1 : 0);
    view.setUint32(at + 60, step.result ?? 0, true);
  });
  for (const [offset, chunk] of data) bytes.set(chunk, offset);
  return Buffer.from(bytes);
}

const addr = (offset: number): bigint => BASE + BigInt(offset);
const slot = (i: number): number => SLOTS + 8 * i;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const cstr = (s: string): Uint8Array => text(`${s}\0`);

function u64(value: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)));
  return b;
}

function report(index: number, errno: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(index, 0);
  b.writeInt32LE(errno, 4);
  return b;
}

// ---- the two architectures ---------------------------------------------------

const EBADF = 9;
const ENOENT = 2;
const EPIPE = 32;
const AT_FDCWD = -100;
const F_GETFD = 1;
const F_DUPFD = 0;
const O_RDONLY = 0;
const PROT_READ_WRITE = 3;
const MAP_PRIVATE = 0x02;
const MAP_FIXED_NOREPLACE = 0x100000;

interface Arch {
  name: 'x86_64' | 'aarch64';
  nodeArch: string; // process.arch of a host that runs it natively
  hex: string;
  asFlags: string[];
  // from /usr/include/x86_64-linux-gnu/asm/unistd_64.h and /usr/include/asm-generic/unistd.h
  nr: { read: number; write: number; close: number; openat: number; dup3: number; fcntl: number; mmap: number };
}

const ARCHES: Arch[] = [
  {
    name: 'x86_64',
    nodeArch: 'x64',
    hex: X86_64_TRAMPOLINE_HEX,
    asFlags: ['--64'],
    nr: { read: 0, write: 1, close: 3, openat: 257, dup3: 292, fcntl: 72, mmap: 9 },
  },
  {
    name: 'aarch64',
    nodeArch: 'arm64',
    hex: AARCH64_TRAMPOLINE_HEX,
    asFlags: [],
    nr: { read: 63, write: 64, close: 57, openat: 56, dup3: 24, fcntl: 25, mmap: 222 },
  },
];

const native = (arch: Arch): boolean => process.arch === arch.nodeArch;
const tool = (arch: Arch, name: string): string => (native(arch) ? name : `${arch.name}-linux-gnu-${name}`);
const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

function run(command: string, args: string[], input?: Buffer): { status: number | null; stdout: Buffer; stderr: Buffer } {
  const r = spawnSync(command, args, { input: input ?? Buffer.alloc(0), timeout: 20_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function must(command: string, args: string[]): void {
  const r = run(command, args);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr.toString()}`);
}

const work = mkdtempSync(join(tmpdir(), 'nsk-trampoline-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

function assemble(arch: Arch, path: string, out: string): string {
  const object = join(work, out);
  must(tool(arch, 'as'), [...arch.asFlags, '-o', object, path]);
  return object;
}

const harnesses = new Map<string, string>();

function harness(arch: Arch): string {
  let binary = harnesses.get(arch.name);
  if (binary === undefined) {
    const t = assemble(arch, source(`../src/trampoline/${arch.name}.S`), `${arch.name}-t.o`);
    const h = assemble(arch, source(`./fixtures/harness-${arch.name}.S`), `${arch.name}-h.o`);
    binary = join(work, `harness-${arch.name}`);
    must(tool(arch, 'ld'), ['-static', '-o', binary, h, t]);
    harnesses.set(arch.name, binary);
  }
  return binary;
}

function walk(arch: Arch, bytes: Buffer): { status: number | null; stdout: Buffer; stderr: Buffer } {
  const binary = harness(arch);
  return native(arch) ? run(binary, [], bytes) : run(`qemu-${arch.name}-static`, [binary], bytes);
}

// ---- the claims ---------------------------------------------------------------

for (const arch of ARCHES) {
  const { nr } = arch;

  test(`the committed ${arch.name} bytes are what ${arch.name}.S assembles to`, (t) => {
    const object = assemble(arch, source(`../src/trampoline/${arch.name}.S`), `${arch.name}-bytes.o`);
    const binary = join(work, `${arch.name}-bytes.bin`);
    must(tool(arch, 'objcopy'), ['-O', 'binary', '-j', '.text', object, binary]);
    t.is(readFileSync(binary).toString('hex'), arch.hex);
  });

  test(`${arch.name}: steps run in order and the end of the plan exits 127`, (t) => {
    const r = walk(
      arch,
      plan(
        2,
        [
          { nr: nr.write, args: [1, addr(DATA), 6] },
          { nr: nr.write, args: [1, addr(DATA + 0x10), 6] },
          END,
          { nr: nr.write, args: [1, addr(DATA + 0x20), 6] },
        ],
        [
          [DATA, text('hello\n')],
          [DATA + 0x10, text('world\n')],
          [DATA + 0x20, text('after\n')],
        ],
      ),
    );
    t.is(r.stdout.toString(), 'hello\nworld\n');
    t.is(r.stderr.toString(), '');
    t.is(r.status, 127);
  });

  test(`${arch.name}: a failing step writes {index, errno} to the error fd and nothing after it runs`, (t) => {
    const r = walk(
      arch,
      plan(
        1,
        [
          { nr: nr.fcntl, args: [1, F_GETFD, 0] },
          { nr: nr.close, args: [999] },
          { nr: nr.write, args: [1, addr(DATA), 6] },
          END,
        ],
        [[DATA, text('after\n')]],
      ),
    );
    t.is(r.stdout.toString('hex'), report(1, EBADF).toString('hex'));
    t.is(r.status, 127);
  });

  test(`${arch.name}: the error fd comes from the plan header`, (t) => {
    const steps: Step[] = [{ nr: nr.write, args: [1, addr(DATA), 7] }];
    for (let i = 1; i < 20; i++) steps.push({ nr: nr.fcntl, args: [1, F_GETFD, 0] });
    steps.push({ nr: nr.openat, args: [AT_FDCWD, addr(DATA + 0x10), O_RDONLY] }, END);
    const r = walk(
      arch,
      plan(2, steps, [
        [DATA, text('before\n')],
        [DATA + 0x10, cstr('/nonexistent/nsk')],
      ]),
    );
    t.is(r.stdout.toString(), 'before\n');
    t.is(r.stderr.toString('hex'), report(20, ENOENT).toString('hex'));
    t.is(r.status, 127);
  });

  test(`${arch.name}: a tolerated errno lets the plan go on, and its result is stored`, (t) => {
    const r = walk(
      arch,
      plan(
        2,
        [
          { nr: nr.close, args: [999], tolerate: EBADF, result: slot(0) },
          { nr: nr.write, args: [1, addr(slot(0)), 8] },
          { nr: nr.write, args: [1, addr(DATA), 6] },
          END,
        ],
        [[DATA, text('go on\n')]],
      ),
    );
    t.is(r.stdout.toString('hex'), Buffer.concat([u64(-EBADF), text('go on\n')]).toString('hex'));
    t.is(r.stderr.toString(), '');
    t.is(r.status, 127);
  });

  test(`${arch.name}: an errno other than the tolerated one still fails`, (t) => {
    const r = walk(
      arch,
      plan(1, [{ nr: nr.close, args: [999], tolerate: ENOENT }, { nr: nr.write, args: [1, addr(DATA), 6] }, END], [
        [DATA, text('after\n')],
      ]),
    );
    t.is(r.stdout.toString('hex'), report(0, EBADF).toString('hex'));
    t.is(r.status, 127);
  });

  test(`${arch.name}: a stored result feeds a later step through the indirect mask`, (t) => {
    const r = walk(
      arch,
      plan(
        2,
        [
          { nr: nr.fcntl, args: [1, F_DUPFD, 100], result: slot(0) }, // fd >= 100, a copy of stdout
          { nr: nr.close, args: [1] },
          { nr: nr.write, args: [addr(slot(0)), addr(DATA), 8], indirect: 0b1, result: slot(1) }, // 8
          { nr: nr.dup3, args: [addr(slot(0)), 1, 0], indirect: 0b1 },
          { nr: nr.write, args: [1, addr(DATA + 0x10), addr(slot(1))], indirect: 0b100 },
          END,
        ],
        [
          [DATA, text('via dup\n')],
          [DATA + 0x10, text('via dup3 and more')],
        ],
      ),
    );
    t.is(r.stdout.toString(), 'via dup\nvia dup3');
    t.is(r.stderr.toString(), '');
    t.is(r.status, 127);
  });

  test(`${arch.name}: every one of the six arguments can be indirect`, (t) => {
    // mmap takes six arguments and rejects each one if it is passed the slot's
    // address instead of its value: the address is not page-aligned (a0, a5),
    // too long to fit below the plan (a1), unreadable as prot (a2, then the
    // write fails), an invalid map type (a3), not an fd (a4).
    const where = 0x0fff_f000;
    const r = walk(
      arch,
      plan(
        2,
        [
          { nr: nr.openat, args: [AT_FDCWD, addr(DATA), O_RDONLY], result: slot(4) },
          {
            nr: nr.mmap,
            args: [0, 1, 2, 3, 4, 5].map((i) => addr(slot(i))),
            indirect: 0b11_1111,
            result: slot(6),
          },
          { nr: nr.write, args: [1, addr(slot(6)), 8] },
          { nr: nr.write, args: [1, where, 8] },
          END,
        ],
        [
          [DATA, cstr('/dev/zero')],
          [slot(0), u64(where)],
          [slot(1), u64(4096)],
          [slot(2), u64(PROT_READ_WRITE)],
          [slot(3), u64(MAP_PRIVATE | MAP_FIXED_NOREPLACE)],
          [slot(5), u64(0)],
        ],
      ),
    );
    t.is(r.stderr.toString('hex'), '');
    t.is(r.stdout.toString('hex'), Buffer.concat([u64(where), Buffer.alloc(8)]).toString('hex'));
    t.is(r.status, 127);
  });

  test(`${arch.name}: with the zero-result flag, a read at EOF fails as EPIPE`, (t) => {
    const r = walk(
      arch,
      plan(
        1,
        [
          { nr: nr.openat, args: [AT_FDCWD, addr(DATA), O_RDONLY], result: slot(0) },
          { nr: nr.read, args: [addr(slot(0)), addr(DATA + 0x100), 16], indirect: 0b1, zeroFails: true },
          { nr: nr.write, args: [1, addr(DATA + 0x10), 6] },
          END,
        ],
        [
          [DATA, cstr('/dev/null')],
          [DATA + 0x10, text('after\n')],
        ],
      ),
    );
    t.is(r.stdout.toString('hex'), report(1, EPIPE).toString('hex'));
    t.is(r.status, 127);
  });

  test(`${arch.name}: the zero-result flag passes nonzero results and can itself be tolerated`, (t) => {
    const r = walk(
      arch,
      plan(
        2,
        [
          { nr: nr.write, args: [1, addr(DATA), 3], zeroFails: true },
          { nr: nr.write, args: [1, addr(DATA), 0], zeroFails: true, tolerate: EPIPE, result: slot(0) },
          { nr: nr.write, args: [1, addr(slot(0)), 8] },
          { nr: nr.write, args: [1, addr(DATA), 0], zeroFails: true },
          { nr: nr.write, args: [1, addr(DATA), 3] },
          END,
        ],
        [[DATA, text('ok\n')]],
      ),
    );
    t.is(r.stdout.toString('hex'), Buffer.concat([text('ok\n'), u64(-EPIPE)]).toString('hex'));
    t.is(r.stderr.toString('hex'), report(3, EPIPE).toString('hex'));
    t.is(r.status, 127);
  });
}
