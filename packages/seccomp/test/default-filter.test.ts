// The default profile compiled ahead of time (src/default-filter.generated.ts)
// must be exactly what compiling profiles/default.json gives now: every
// program, for every key, byte for byte. If the profile or the compiler
// changes, this fails until scripts/gen-default-filter.ts is run again.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { hostArch } from '@nsk/syscall';
import { hostState, leftSince } from '@nsk/testkit';
import { compile, compileDefault, defaultProfile, DEFAULT_CAPABILITIES, DEFAULT_PROFILE_PATH, parseProfile, type Arch } from '../src/index.ts';
import { defaultFilterFrom } from '../src/default-filter.ts';
import { MENTIONED_CAPS, MIN_KERNELS, PROFILE_TEXT, PROGRAMS } from '../src/default-filter.generated.ts';
import { generate } from '../scripts/gen-default-filter.ts';

const before = hostState();
const text = readFileSync(DEFAULT_PROFILE_PATH, 'utf8');
const bytes = (f: { bytes(): Uint8Array }) => Buffer.from(f.bytes()).toString('hex');

test.after.always('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

test('the generated module is what the generator makes of profiles/default.json today', (t) => {
  t.is(PROFILE_TEXT, text, 'profiles/default.json changed: run node --conditions=nsk-source scripts/gen-default-filter.ts');
  t.is(readFileSync(new URL('../src/default-filter.generated.ts', import.meta.url), 'utf8'), generate(text));
});

test('every precompiled program equals a fresh compile for its key, and the keys cover the capabilities and kernels the profile names', (t) => {
  t.deepEqual(MENTIONED_CAPS, ['CAP_SYS_ADMIN', 'CAP_SYS_CHROOT']);
  t.deepEqual(MIN_KERNELS, ['4.8']);
  const keys = Object.keys(PROGRAMS);
  t.is(keys.length, 2 * 4 * 2);
  for (const key of keys) {
    const [arch, caps, bits] = key.split('|') as [Arch, string, string];
    const capabilities = caps ? caps.split(',') : [];
    const kernel = bits === '1' ? '4.8' : '4.7';
    const fresh = compile(defaultProfile(), { arch, capabilities, kernel });
    const made = defaultFilterFrom(text, { arch, capabilities, kernel });
    t.is(bytes(made), bytes(fresh), key);
    t.deepEqual(made.arches, fresh.arches, key);
    t.is(made.flags, fresh.flags, key);
    t.deepEqual([...made.actionKinds].sort(), [...fresh.actionKinds].sort(), key);
    t.deepEqual(made.policy, fresh.policy, `${key}: the policy, resolved when asked for`);
  }
});

test('compileDefault() on this machine equals compile(defaultProfile()) for Docker’s capabilities, with and without CAP_SYS_ADMIN, and with none', (t) => {
  for (const capabilities of [DEFAULT_CAPABILITIES, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], []]) {
    const fresh = compile(defaultProfile(), { capabilities });
    const made = compileDefault({ capabilities });
    t.is(made.arch, hostArch);
    t.is(bytes(made), bytes(fresh));
    t.deepEqual(made.verdict('execve'), fresh.verdict('execve'));
    t.deepEqual(made.verdict('keyctl'), { kind: 'errno', data: 1 });
    t.deepEqual(made.policy, fresh.policy);
  }
});

test('a changed profile text is compiled, not taken from the precompiled programs', (t) => {
  const p = parseProfile(text) as { syscalls: Array<{ names: string[]; action: string }> };
  // Allow fanotify_mark(2), which the profile leaves to its default (EPERM): a
  // precompiled program would still deny it.
  t.deepEqual(compileDefault().verdict('fanotify_mark'), { kind: 'errno', data: 1 });
  const changed = JSON.stringify({ ...p, syscalls: [...p.syscalls, { names: ['fanotify_mark'], action: 'SCMP_ACT_ALLOW' }] }, null, 2);
  const f = defaultFilterFrom(changed, { capabilities: DEFAULT_CAPABILITIES });
  t.deepEqual(f.verdict('fanotify_mark'), { kind: 'allow', data: 0 });
  t.is(bytes(f), bytes(compile(changed, { capabilities: DEFAULT_CAPABILITIES })));
});
