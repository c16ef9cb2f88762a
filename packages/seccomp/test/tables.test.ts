// The syscall tables are generated from the kernel headers and committed;
// they must still match the headers, and agree with @nsk/syscall's table.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { SYSCALL_NAMES, sysno } from '@nsk/syscall';
import { hostState, leftSince } from '@nsk/testkit';
import { SOURCES, readTable, renderTable, tablePath, type Abi } from '../scripts/gen-tables.ts';
import { isKnownSyscall, maxSyscall, syscallName, syscallNumber, syscallTable, X32_SYSCALL_BIT } from '../src/index.ts';

const before = hostState();
test.after.always('nothing is left behind', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.fds, []);
  t.deepEqual(left.children, []);
});

for (const abi of Object.keys(SOURCES) as Abi[]) {
  test(`src/tables/${abi}.ts agrees with the headers installed today`, (t) => {
    const committed = syscallTable(abi);
    const headers = new Map(readTable(abi));
    for (const [name, nr] of Object.entries(committed)) t.is(headers.get(name), nr, `${abi} ${name}`);
    // Newer headers may only add calls above the ones we have.
    const top = Math.max(...Object.values(committed));
    for (const [name, nr] of headers) if (nr <= top) t.is(committed[name], nr, `${abi} ${name} is missing`);
    if (headers.size === Object.keys(committed).length) t.is(readFileSync(tablePath(abi), 'utf8'), renderTable(abi), 'same headers, same file');
  });
}

test('numbers the kernel ABI fixed long ago', (t) => {
  t.is(syscallNumber('mkdir', 'x86_64'), 83);
  t.is(syscallNumber('mkdir', 'aarch64'), undefined, 'aarch64 has only mkdirat');
  t.is(syscallNumber('mkdirat', 'aarch64'), 34);
  t.is(syscallNumber('keyctl', 'x86_64'), 250);
  t.is(syscallNumber('keyctl', 'aarch64'), 219);
  t.is(syscallNumber('fcntl', 'aarch64'), 25, '__NR3264_fcntl resolved');
  t.is(syscallNumber('newfstatat', 'aarch64'), 79, '__ARCH_WANT_NEW_STAT honoured');
  t.is(syscallNumber('clone3', 'aarch64'), 435, '__ARCH_WANT_SYS_CLONE3 honoured');
  t.is(syscallNumber('socketcall', 'i386'), 102);
  t.is(syscallNumber('read', 'x32'), X32_SYSCALL_BIT);
  t.is(syscallName(0, 'x86_64'), 'read');
  t.is(syscallName(63, 'aarch64'), 'read');
  t.true(isKnownSyscall('_llseek'), 'an i386-only name is known');
  t.false(isKnownSyscall('frobnicate'));
  t.is(maxSyscall('x86_64'), 450, 'linux-libc-dev 6.1 ends at set_mempolicy_home_node');
  t.false(Object.keys(syscallTable('aarch64')).includes('syscalls'), 'the __NR_syscalls count is not a call');
});

test('every number @nsk/syscall knows is the same here', (t) => {
  for (const name of SYSCALL_NAMES) {
    t.is(syscallNumber(name, 'x86_64'), sysno(name, 'x86_64'), name);
    t.is(syscallNumber(name, 'aarch64'), sysno(name, 'aarch64'), name);
  }
});
