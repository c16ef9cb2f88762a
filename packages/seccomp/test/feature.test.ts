// Installing: the Feature's steps are the plan's last before execve
// (no_new_privs, then seccomp), the kernel reports the filter on the
// running program, the memory trick works in a forked child as in a
// CLONE_VM one, a cherry-picker can add the steps to a plan of their own,
// and profiles that could not start a container are refused up front.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { O, close, hostArch, pipe2, write, ValidationError } from '@nsk/syscall';
import { Plan, explainSpawn } from '@nsk/clone';
import { hostState, leftSince, run } from '@nsk/testkit';
import { compile, planSeccomp, seccomp, syscallNumber, type SeccompProfile } from '../src/index.ts';
import { call, sc, underFilter } from './helpers.ts';

const before = hostState();
test.before(() => {
  sc();
});
test.after.always('nothing is left behind', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.fds, []);
  t.deepEqual(left.children, []);
});

const GETPPID = syscallNumber('getppid', hostArch)!;
const denyGetppid = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 3 }] } as SeccompProfile;

function status(pid: number): Record<string, string> {
  return Object.fromEntries(readFileSync(`/proc/${pid}/status`, 'utf8').trim().split('\n').map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()];
  }));
}

test('the feature’s steps come last: no_new_privs, then seccomp, then execve', (t) => {
  const text = explainSpawn({ argv: ['/bin/true'], features: [seccomp(denyGetppid)] });
  const lines = text.split('\n').slice(-3);
  t.regex(lines[0]!, /prctl\(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0\)/);
  t.regex(lines[1]!, /seccomp\(SECCOMP_SET_MODE_FILTER, 0, \{len=\d+, filter=<\d+ instructions>\}\)\s+# install the seccomp filter/);
  t.regex(lines[2]!, /execve\("\/bin\/true"/);
  const noNnp = explainSpawn({ argv: ['/bin/true'], features: [seccomp(denyGetppid, { noNewPrivs: false })] });
  t.notRegex(noNnp, /PR_SET_NO_NEW_PRIVS/);
});

test('the kernel reports the filter on the running program: Seccomp 2, one filter, NoNewPrivs 1', async (t) => {
  for (const noNewPrivs of [true, false]) {
    const [r, w] = pipe2(O.CLOEXEC);
    try {
      let seen: Record<string, string> = {};
      const res = await underFilter(denyGetppid, ['-w', call(GETPPID)], { noNewPrivs, extra: { stdio: [r] } }, (child) => {
        close(r);
        seen = status(child.pid);
        write(w, new Uint8Array([1]));
      });
      t.deepEqual([seen.Seccomp, seen.Seccomp_filters, seen.NoNewPrivs], ['2', '1', noNewPrivs ? '1' : '0']);
      t.deepEqual(res.calls, [{ ret: -1, errno: 3 }]);
    } finally {
      close(w);
    }
  }
  // This process itself is untouched.
  t.is(status(process.pid).Seccomp, '0');
});

test('a forked child (no CLONE_VM) reads its own copy of the filter just as well', async (t) => {
  const r = await underFilter(denyGetppid, [call(GETPPID)], { extra: { shareMemory: false } });
  t.deepEqual(r.calls, [{ ret: -1, errno: 3 }]);
});

test('one Filter serves many children, one after another and at once', async (t) => {
  const f = compile(denyGetppid);
  const results = await Promise.all(Array.from({ length: 20 }, () => underFilter(f, [call(GETPPID)])));
  for (const r of results) t.deepEqual(r.calls, [{ ret: -1, errno: 3 }]);
});

test('a cherry-picker adds the steps to a plan of their own and spawns with it', async (t) => {
  const plan = new Plan();
  const filter = compile(denyGetppid);
  planSeccomp(plan, filter);
  t.deepEqual(plan.steps.map((s) => s.syscall), ['prctl', 'seccomp']);
  const r = await run({ argv: [sc(), call(GETPPID)], plan });
  t.is(r.stdout, '-1 3\n');
});

test('a profile that would stop execve (or the listener’s fcntl), or made for another ABI, is refused before anything starts', (t) => {
  const noExec = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['execve'], action: 'SCMP_ACT_ERRNO' }] } as SeccompProfile;
  t.throws(() => seccomp(noExec), { instanceOf: ValidationError, message: /stops execve/ });
  const denyAll = { defaultAction: 'SCMP_ACT_KILL_PROCESS' } as SeccompProfile;
  t.throws(() => seccomp(denyAll), { instanceOf: ValidationError, message: /stops execve \(kill-process\)/ });
  const listenerNeedsFcntl = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['fcntl'], action: 'SCMP_ACT_ERRNO' }] } as SeccompProfile;
  t.notThrows(() => seccomp(listenerNeedsFcntl));
  t.throws(() => seccomp(listenerNeedsFcntl, { listener: true }), { message: /stops fcntl/ });
  const elsewhere = compile(denyGetppid, { arch: hostArch === 'x86_64' ? 'aarch64' : 'x86_64' });
  t.throws(() => seccomp(elsewhere), { instanceOf: ValidationError, message: /no section for/ });
});
