import test from 'ava';
import { readFileSync } from 'node:fs';
import {
  Arena, O, SyscallError, ValidationError, close, fcntl, F, FD_CLOEXEC, getpid, mount, pipe2, read, syscall, write,
} from '../src/index.ts';

test('a failing call throws a SyscallError naming the call, the path and the errno', (t) => {
  const err = t.throws(() => mount('none', '/nonexistent/nsk-test', 'tmpfs', 0), { instanceOf: SyscallError });
  t.is(err.code, 'ENOENT');
  t.is(err.errno, 'ENOENT');
  t.is(err.errnoNumber, 2);
  t.is(err.syscall, 'mount');
  t.is(err.path, '/nonexistent/nsk-test');
  t.is(err.message, 'mount(none, /nonexistent/nsk-test, tmpfs, 0x0): ENOENT — No such file or directory');
});

test('a SyscallError can name the step and give a hint', (t) => {
  const err = new SyscallError({
    step: 'pivot into the container', syscall: 'pivot_root', errno: 22,
    args: ['/var/lib/nsk/c1/rootfs', '.old'], hint: 'new root is not a mount point',
  });
  t.is(err.message, 'pivot into the container: pivot_root(/var/lib/nsk/c1/rootfs, .old): EINVAL — new root is not a mount point');
});

test('validation errors carry the field and no errno', (t) => {
  const err = new ValidationError('hostname', 'longer than 64 bytes');
  t.is(err.code, 'ERR_NSK_INVALID');
  t.is(err.message, 'hostname: longer than 64 bytes');
});

test('raw syscalls by name reach the kernel', (t) => {
  t.is(syscall('getpid'), process.pid);
  t.is(getpid(), process.pid);
  const err = t.throws(() => syscall('close', 1 << 20), { instanceOf: SyscallError });
  t.is(err.code, 'EBADF');
});

test('pipes carry bytes and are close-on-exec when asked', (t) => {
  const [r, w] = pipe2(O.CLOEXEC);
  t.is(fcntl(r, F.GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  t.is(write(w, new TextEncoder().encode('nsk')), 3);
  const buf = new Uint8Array(8);
  t.is(read(r, buf), 3);
  t.is(new TextDecoder().decode(buf.subarray(0, 3)), 'nsk');
  close(r);
  close(w);
});

test('an arena is anonymous mmap memory the kernel lists, gone after release', (t) => {
  const arena = Arena.map(10000);
  t.is(arena.size, 12288);
  arena.bytes[0] = 42;
  const start = arena.address.toString(16);
  const listed = () => readFileSync('/proc/self/maps', 'utf8').split('\n').some((l) => l.startsWith(`${start}-`));
  t.true(listed());
  arena.release();
  arena.release();
  t.false(listed());
});
