// Reading profiles: every malformed profile is refused with the JSON path of
// the problem, and Docker's includes/excludes pick rules as Docker does.
import test from 'ava';
import { ValidationError } from '@nsk/syscall';
import { hostState, leftSince } from '@nsk/testkit';
import { AUDIT_ARCH, RET, compile, emulate, parseProfile, resolveProfile, type SeccompProfile } from '../src/index.ts';

const before = hostState();
test.after.always('nothing is left behind', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.fds, []);
  t.deepEqual(left.children, []);
});

const base = (syscalls: unknown[], extra: Record<string, unknown> = {}): SeccompProfile =>
  ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls, ...extra }) as SeccompProfile;

const refused = (t: import('ava').ExecutionContext, profile: unknown, field: string, message: RegExp) => {
  const err = t.throws(() => compile(profile as SeccompProfile, { arch: 'x86_64' }), { instanceOf: ValidationError });
  t.is(err?.field, field);
  t.regex(err?.message ?? '', message);
};

const ok = (name = 'getpid') => ({ names: [name], action: 'SCMP_ACT_ERRNO' });

test('an unknown system call name is refused with its path', (t) => {
  refused(t, base([ok(), ok(), ok(), { names: ['mkdir', 'mkdri'], action: 'SCMP_ACT_ERRNO' }]), 'syscalls[3].names[1]', /no ABI we know has a system call named "mkdri"/);
});

test('an unknown action is refused with its path', (t) => {
  refused(t, base([ok(), { names: ['mkdir'], action: 'SCMP_ACT_DENY' }]), 'syscalls[1].action', /unknown action "SCMP_ACT_DENY"/);
  refused(t, { defaultAction: 'ALLOW' }, 'defaultAction', /unknown action/);
  refused(t, { syscalls: [] }, 'defaultAction', /missing/);
});

test('a bad operator is refused with its path', (t) => {
  const s = { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_LIKE' }] };
  refused(t, base([ok(), ok(), ok(), s]), 'syscalls[3].args[0].op', /unknown operator "SCMP_CMP_LIKE"/);
});

test('an argument index out of range is refused with its path', (t) => {
  const s = { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 6, value: 1, op: 'SCMP_CMP_EQ' }] };
  refused(t, base([s]), 'syscalls[0].args[1].index', /from 0 to 5/);
  refused(t, base([{ ...s, args: [{ index: -1, value: 1, op: 'SCMP_CMP_EQ' }] }]), 'syscalls[0].args[0].index', /from 0 to 5/);
});

test('values: uint64 only, exact; valueTwo only for masked-eq; errnoRet only for errno and trace', (t) => {
  const arg = (a: object) => base([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_EQ', ...a }] }]);
  refused(t, arg({ value: -1 }), 'syscalls[0].args[0].value', /64 unsigned bits|unsigned 64-bit/);
  refused(t, arg({ value: 2 ** 60 }), 'syscalls[0].args[0].value', /not an exact integer/);
  refused(t, arg({ value: '0x10000000000000000' }), 'syscalls[0].args[0].value', /does not fit/);
  refused(t, arg({ value: 1, valueTwo: 2 }), 'syscalls[0].args[0].valueTwo', /only SCMP_CMP_MASKED_EQ/);
  refused(t, arg({}), 'syscalls[0].args[0].value', /missing/);
  refused(t, base([{ names: ['mkdir'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }]), 'syscalls[0].errnoRet', /only SCMP_ACT_ERRNO and SCMP_ACT_TRACE/);
  refused(t, base([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 5000 }]), 'syscalls[0].errnoRet', /0 to 4095/);
  refused(t, { defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 }, 'defaultErrnoRet', /only SCMP_ACT_ERRNO/);
});

test('typos and contradictions are refused with their path', (t) => {
  refused(t, base([], { syscall: [] }), 'syscall', /unknown field/);
  refused(t, base([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', arg: [] }]), 'syscalls[0].arg', /unknown field/);
  refused(t, base([{ names: [], action: 'SCMP_ACT_ERRNO' }]), 'syscalls[0].names', /names no system call/);
  refused(t, base([], { architectures: ['SCMP_ARCH_X86_64'], archMap: [] }), 'archMap', /either/);
  refused(t, base([], { architectures: ['SCMP_ARCH_PDP11'] }), 'architectures[0]', /unknown architecture/);
  refused(t, base([], { flags: ['SECCOMP_FILTER_FLAG_FAST'] }), 'flags[0]', /unknown flag/);
  refused(t, base([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', includes: { caps: ['sys_admin'] } }]), 'syscalls[0].includes.caps[0]', /capability/);
  refused(t, base([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', includes: { minKernel: 'six' } }]), 'syscalls[0].includes.minKernel', /"4.8"/);
  refused(t, base([], { listenerPath: '/run/x.sock' }), 'listenerPath', /not supported/);
  refused(t, 'not json', 'profile', /not JSON/);
});

test('parseProfile keeps 64-bit values exact', (t) => {
  const text = '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]}]}';
  const policy = compile(text).policy;
  t.is(policy.rules[0]!.conditions[0]!.value, 18446744073709551615n);
  t.is((parseProfile(text).syscalls![0]!.args![0]!.value), 18446744073709551615n);
});

test('unknown names can be skipped, as runc skips names its libseccomp lacks', (t) => {
  const p = base([{ names: ['mkdir', 'futex_wake_v2'], action: 'SCMP_ACT_ERRNO' }]);
  t.deepEqual(resolveProfile(p, { arch: 'x86_64', unknownSyscalls: 'ignore' }).rules.map((r) => r.name), ['mkdir']);
});

test('includes and excludes choose rules by capability, architecture and kernel, as Docker does', (t) => {
  const p = base([
    { names: ['mount'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ERRNO', includes: { arches: ['amd64'] } },
    { names: ['ptrace'], action: 'SCMP_ACT_ERRNO', includes: { minKernel: '4.8' } },
    { names: ['kexec_load'], action: 'SCMP_ACT_ERRNO', includes: { caps: ['CAP_SYS_BOOT', 'CAP_SYS_ADMIN'] } },
    { names: ['acct'], action: 'SCMP_ACT_ERRNO', excludes: { arches: ['x86_64', 'arm64'] } },
  ]);
  const names = (o: Parameters<typeof resolveProfile>[1]) => resolveProfile(p, o).rules.map((r) => r.name);
  t.deepEqual(names({ arch: 'x86_64', capabilities: [], kernel: '6.1.0' }), ['mount', 'arch_prctl', 'ptrace']);
  t.deepEqual(names({ arch: 'aarch64', capabilities: ['CAP_SYS_ADMIN'], kernel: '4.4.0' }), []);
  t.deepEqual(names({ arch: 'x86_64', capabilities: ['CAP_SYS_ADMIN', 'CAP_SYS_BOOT'], kernel: '4.8' }), ['arch_prctl', 'ptrace', 'kexec_load']);
});

test('architectures: the machine’s own always, x86_64 and aarch64 when named, the rest never', (t) => {
  const arches = (extra: Record<string, unknown>, arch: 'x86_64' | 'aarch64' = 'x86_64') => resolveProfile(base([], extra), { arch }).arches;
  t.deepEqual(arches({}), ['x86_64']);
  t.deepEqual(arches({ architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'] }), ['x86_64', 'aarch64']);
  const archMap = [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ];
  t.deepEqual(arches({ archMap }), ['x86_64'], 'archMap: only the machine’s entry');
  t.deepEqual(arches({ archMap }, 'aarch64'), ['aarch64']);
});

test('Docker’s singular "name", null args and flags are read', (t) => {
  const policy = resolveProfile(base([{ name: 'mkdir', action: 'SCMP_ACT_LOG', args: null }], { flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }), { arch: 'x86_64' });
  t.deepEqual(policy.rules.map((r) => [r.name, r.action.kind]), [['mkdir', 'log']]);
  t.is(policy.flags, 2 | 4);
});

test('the first rule without arguments for a call decides, as in libseccomp (podman lists setns twice)', (t) => {
  // podman's default profile allows setns, then (for containers without
  // CAP_SYS_ADMIN) lists it again as EPERM; runc and crun keep the first.
  const f = compile(base([{ names: ['setns', 'getpid'], action: 'SCMP_ACT_ALLOW' }, { names: ['setns'], action: 'SCMP_ACT_ERRNO' }], { defaultAction: 'SCMP_ACT_KILL_PROCESS' }), { arch: 'x86_64' });
  t.is(emulate(f.program, { nr: 308, arch: AUDIT_ARCH.x86_64 }).ret, RET.ALLOW);
  t.deepEqual(f.policy.rules.map((r) => r.path), ['syscalls[0]', 'syscalls[0]']);
});
