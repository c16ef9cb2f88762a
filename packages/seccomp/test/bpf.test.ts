// The BPF layer on its own: assembler, text syntax, disassembler, checker,
// emulator and byte encoding. Pure: nothing touches the kernel here.
import test from 'ava';
import { ValidationError } from '@nsk/syscall';
import { hostState, leftSince } from '@nsk/testkit';
import {
  Asm, RET, AUDIT_ARCH, OFF_ARCH, OFF_NR, argOffset, assemble, cachedAllow, checkProgram, decodeProgram, disassemble,
  emulate, encodeProgram, explainProgram, type Insn,
} from '../src/index.ts';

const ERRNO_EPERM = RET.ERRNO | 1;

const before = hostState();
test.after.always('nothing is left behind', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.fds, []);
  t.deepEqual(left.children, []);
});

test('labels resolve to forward offsets; jf defaults to the next instruction', (t) => {
  const a = new Asm();
  const deny = a.label('deny');
  a.ld(OFF_NR).jeq(83, deny).ret(RET.ALLOW);
  t.throws(() => a.assemble(), { instanceOf: ValidationError, message: /never bound/ });

  const b = new Asm();
  const ok = b.label('ok');
  const no = b.label('no');
  b.ld(OFF_NR).jeq(83, no).ja(ok).bind(no).ret(ERRNO_EPERM).bind(ok).ret(RET.ALLOW);
  const p = b.assemble();
  t.deepEqual(p, [
    { code: 0x20, jt: 0, jf: 0, k: 0 },
    { code: 0x15, jt: 1, jf: 0, k: 83 },
    { code: 0x05, jt: 0, jf: 0, k: 1 },
    { code: 0x06, jt: 0, jf: 0, k: ERRNO_EPERM },
    { code: 0x06, jt: 0, jf: 0, k: RET.ALLOW },
  ]);
  t.is(emulate(p, { nr: 83, arch: AUDIT_ARCH.x86_64 }).ret, ERRNO_EPERM);
  t.is(emulate(p, { nr: 84, arch: AUDIT_ARCH.x86_64 }).ret, RET.ALLOW);
});

test('a jump farther than 255 gets a stub: a copy of the ret it aims at, or a ja', (t) => {
  const make = (farIsRet: boolean): Insn[] => {
    const a = new Asm();
    const far = a.label('far');
    const filler = a.label('filler');
    a.ld(OFF_NR).jeq(7, far);
    for (let i = 0; i < 300; i++) a.ld(OFF_NR);
    a.jeq(9, filler).ret(RET.ALLOW).bind(filler).ret(RET.KILL_PROCESS);
    if (farIsRet) a.bind(far).ret(ERRNO_EPERM);
    else a.bind(far).ld(OFF_ARCH).ret(ERRNO_EPERM | 2);
    return a.assemble();
  };
  const withRet = make(true);
  t.is(withRet.length, 306 + 1, 'one stub added');
  t.deepEqual(withRet[2], { code: 0x06, jt: 0, jf: 0, k: ERRNO_EPERM }, 'the stub is the ret itself');
  t.is(emulate(withRet, { nr: 7, arch: 0 }).ret, ERRNO_EPERM);
  t.is(emulate(withRet, { nr: 7, arch: 0 }).executed, 3);
  t.is(emulate(withRet, { nr: 8, arch: 0 }).ret, RET.ALLOW);
  const withJa = make(false);
  t.is(withJa[2]!.code, 0x05, 'the stub is a ja');
  t.is(emulate(withJa, { nr: 7, arch: 0 }).ret, ERRNO_EPERM | 2);
  t.is(emulate(withJa, { nr: 9, arch: 0 }).ret, RET.KILL_PROCESS);
  checkProgram(withRet);
  checkProgram(withJa);
});

test('backward jumps and labels bound twice are refused', (t) => {
  const a = new Asm();
  const top = a.label('top');
  a.bind(top).ld(OFF_NR).ja(top);
  t.throws(() => a.assemble(), { message: /only forward/ });
  const b = new Asm();
  const l = b.label('x');
  b.bind(l);
  t.throws(() => b.bind(l), { message: /bound twice/ });
});

const SOURCE = `
; only x86_64, and mkdir gets EPERM
        ld [arch]
        jne #0xc000003e, kill
        ld [nr]
        jeq #83, deny, allow
deny:   ret #ERRNO(1)
allow:  ret #ALLOW
kill:   ret #KILL_PROCESS
`;

test('bpf_asm text assembles, and disassembles back to the same program', (t) => {
  const p = assemble(SOURCE);
  t.is(p.length, 7);
  t.is(emulate(p, { nr: 83, arch: AUDIT_ARCH.x86_64 }).ret, ERRNO_EPERM);
  t.is(emulate(p, { nr: 83, arch: AUDIT_ARCH.aarch64 }).ret, RET.KILL_PROCESS);
  t.deepEqual(assemble(disassemble(p)), p);
  const alu = assemble('ld #5\ntax\nld [args[1].hi]\nadd x\nand #0xff\nst M[3]\nldx M[3]\ntxa\nrsh #1\njset #2, a, b\na: ret a\nb: ret #0');
  t.deepEqual(assemble(disassemble(alu)), alu);
  t.is(emulate(alu, { nr: 0, arch: 0, args: [0, 0x0000000700000000n] }).ret, 6);
  // The assembler writes what it is told; checkProgram is the kernel's judge.
  t.throws(() => checkProgram(assemble('ld [3]\nret #0')), { instanceOf: ValidationError, message: /aligned/ });
});

test('assembler errors name the line', (t) => {
  t.throws(() => assemble('ld [nr]\nfrobnicate #1\nret #0'), { instanceOf: ValidationError, message: /^line 2: unknown instruction/ });
  t.throws(() => assemble('ret #0x1ffffffff'), { message: /line 1: not a 32-bit number/ });
});

test('explain prints seccomp-tools’ layout and names syscalls for the arch being checked', (t) => {
  const text = explainProgram(assemble(SOURCE));
  t.is(text, [
    ' line  CODE  JT   JF      K',
    '=================================',
    ' 0000: 0x20 0x00 0x00 0x00000004  A = arch',
    ' 0001: 0x15 0x00 0x04 0xc000003e  if (A != ARCH_X86_64) goto 0006',
    ' 0002: 0x20 0x00 0x00 0x00000000  A = sys_number',
    ' 0003: 0x15 0x00 0x01 0x00000053  if (A != mkdir) goto 0005',
    ' 0004: 0x06 0x00 0x00 0x00050001  return ERRNO(1)',
    ' 0005: 0x06 0x00 0x00 0x7fff0000  return ALLOW',
    ' 0006: 0x06 0x00 0x00 0x80000000  return KILL_PROCESS',
  ].join('\n'));
});

test('checkProgram refuses what the kernel refuses', (t) => {
  const bad = (src: string, re: RegExp) => t.throws(() => checkProgram(assemble(src)), { instanceOf: ValidationError, message: re });
  bad('ld [64]\nret #0', /aligned 32-bit words below 64/);
  bad('ld [2]\nret #0', /aligned/);
  bad('ld M[16]\nret #0', /16 words/);
  bad('div #0\nret #0', /constant 0/);
  bad('lsh #32\nret #0', /at most 31/);
  bad('ld [nr]', /must be a ret/);
  t.throws(() => checkProgram([]), { message: /empty/ });
  t.throws(() => checkProgram([{ code: 0x28, jt: 0, jf: 0, k: 0 }, { code: 6, jt: 0, jf: 0, k: 0 }]), { message: /not allowed in seccomp/ }, 'ldh is a packet load');
  t.throws(() => checkProgram(Array.from({ length: 4097 }, () => ({ code: 6, jt: 0, jf: 0, k: 0 }))), { message: /at most 4096/ });
});

test('the emulator computes ALU, memory, X and division by zero as the kernel does', (t) => {
  const run = (src: string, args: number[] = []) => emulate(assemble(src), { nr: 1, arch: 2, args }).ret;
  t.is(run('ld #7\nsub #9\nret a'), 0xfffffffe);
  t.is(run('ld #0x80000000\nmul #2\nret a'), 0);
  t.is(run('ld #7\nldx #0\ndiv x\nret #5'), 0, 'A / X with X = 0 returns 0');
  t.is(run('ld #7\nmod #4\nret a'), 3);
  t.is(run('ld len\nret a'), 64);
  t.is(run('ld #1\nneg\nret a'), 0xffffffff);
  t.is(run('ld [args[0].lo]\nxor #0xff\nret a', [0x0f]), 0xf0);
  const e = emulate(assemble('ld [arch]\nld [args[5].hi]\nret #0'), { nr: 0, arch: 0 });
  t.deepEqual(e.loads, [OFF_ARCH, argOffset(5, 'hi')]);
  t.is(e.executed, 3);
});

test('cachedAllow follows the kernel’s rule: only arch and nr, only constant tests', (t) => {
  const p = assemble(SOURCE);
  t.true(cachedAllow(p, AUDIT_ARCH.x86_64, 0));
  t.false(cachedAllow(p, AUDIT_ARCH.x86_64, 83), 'not allowed: not cached');
  t.false(cachedAllow(assemble('ld [args[0].lo]\nret #ALLOW'), AUDIT_ARCH.x86_64, 0), 'an argument load is not constant');
  t.false(cachedAllow(assemble('ld [nr]\ntax\nret #ALLOW'), AUDIT_ARCH.x86_64, 0), 'tax is outside the kernel’s emulator');
  t.true(cachedAllow(assemble('ld [nr]\nand #1\njeq #0, y, n\ny: ret #ALLOW\nn: ret #0'), AUDIT_ARCH.x86_64, 2));
});

test('programs encode to struct sock_filter bytes and back', (t) => {
  const p = assemble(SOURCE);
  const bytes = encodeProgram(p);
  t.is(bytes.length, 8 * p.length);
  t.deepEqual([...bytes.subarray(8, 16)], [0x15, 0x00, 0x00, 0x04, 0x3e, 0x00, 0x00, 0xc0]);
  t.deepEqual(decodeProgram(bytes), p);
  t.throws(() => decodeProgram(new Uint8Array(9)), { message: /whole number/ });
});
