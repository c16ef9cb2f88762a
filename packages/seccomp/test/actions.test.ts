// Each action, seen from a real process under the filter: the errno it got,
// the signal that killed it (or only its thread), the SIGSYS it caught, the
// kernel log line, the supervisor's answer.
import test from 'ava';
import { openSync, readSync, closeSync, constants, readFileSync, readdirSync } from 'node:fs';
import { O, close, hostArch, pipe2, write } from '@nsk/syscall';
import { hostState, leftSince } from '@nsk/testkit';
import { AUDIT_ARCH, X32_SYSCALL_BIT, compile, syscallNumber, takeListener, type SeccompProfile } from '../src/index.ts';
import { call, sc, underFilter } from './helpers.ts';

const before = hostState();
test.before(() => {
  sc();
});
test.after.always('nothing is left behind', (t) => {
  const left = leftSince(before);
  t.deepEqual(left.fds, []);
  t.deepEqual(left.children, []);
  t.deepEqual(left.mounts, []);
});

const GETPPID = syscallNumber('getppid', hostArch)!;
const GETPID = syscallNumber('getpid', hostArch)!;
const on = (action: string, extra: object = {}): SeccompProfile =>
  ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action, ...extra }] }) as SeccompProfile;

test('errno: the call fails with the errno the rule names, and does not run', async (t) => {
  const r = await underFilter(on('SCMP_ACT_ERRNO', { errnoRet: 77 }), [call(GETPPID), call(GETPID)]);
  t.is(r.code, 0);
  t.deepEqual(r.calls[0], { ret: -1, errno: 77 });
  t.true(r.calls[1]!.ret > 0, 'getpid still works');
});

test('allow: a rule lets a call through that the default would stop', async (t) => {
  const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [
    { names: ['getppid'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
    { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 },
  ] } as SeccompProfile;
  const r = await underFilter(profile, [call(GETPPID, 1), call(GETPPID, 0)]);
  t.is(r.calls[0]!.ret, process.pid, 'getppid(1) allowed: the parent is this process');
  t.deepEqual(r.calls[1], { ret: -1, errno: 5 });
});

test('kill-process: SIGSYS ends the whole process, even when another thread makes the call', async (t) => {
  const single = await underFilter(on('SCMP_ACT_KILL_PROCESS'), [call(GETPID), call(GETPPID), call(GETPID)]);
  t.is(single.signal, 'SIGSYS');
  t.is(single.calls.length, 1, 'nothing after the call ran');
  const threaded = await underFilter(on('SCMP_ACT_KILL_PROCESS'), ['-t', call(GETPPID)]);
  t.is(threaded.signal, 'SIGSYS');
  t.notRegex(threaded.stdout, /main alive/);
});

test('kill-thread (and libseccomp’s SCMP_ACT_KILL): only the calling thread dies', async (t) => {
  for (const action of ['SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL']) {
    const threaded = await underFilter(on(action), ['-t', call(GETPPID)]);
    t.is(threaded.code, 0, action);
    t.is(threaded.stdout, 'main alive\n', `${action}: the thread printed nothing, main went on`);
    const single = await underFilter(on(action), [call(GETPPID)]);
    t.is(single.signal, 'SIGSYS', `${action}: the only thread is the process`);
  }
});

test('trap: a catchable SIGSYS that names the call (si_code SYS_SECCOMP)', async (t) => {
  const caught = await underFilter(on('SCMP_ACT_TRAP'), ['-s', call(GETPPID)]);
  t.is(caught.code, 0);
  t.is(caught.stdout, `SIGSYS nr=${GETPPID} data=0 code=1 arch=0x${AUDIT_ARCH[hostArch].toString(16)}\n`);
  const uncaught = await underFilter(on('SCMP_ACT_TRAP'), [call(GETPPID)]);
  t.is(uncaught.signal, 'SIGSYS');
});

test('trace: with no tracer attached the call fails with ENOSYS', async (t) => {
  const r = await underFilter(on('SCMP_ACT_TRACE', { errnoRet: 9 }), [call(GETPPID)]);
  t.deepEqual(r.calls, [{ ret: -1, errno: 38 }]);
});

/** True when auditd runs: it takes audit records, and the kernel log has none. */
function auditdRuns(): boolean {
  return readdirSync('/proc').some((p) => /^\d+$/.test(p) && (() => {
    try {
      return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'auditd';
    } catch {
      return false;
    }
  })());
}

/** Audit records for `pid`: in the kernel log (/dev/kmsg, read without blocking), or auditd's log. */
function auditFor(pid: number): string[] {
  if (auditdRuns()) return readFileSync('/var/log/audit/audit.log', 'utf8').split('\n').filter((l) => l.includes(` pid=${pid} `));
  return kmsgFor(pid);
}

function kmsgFor(pid: number): string[] {
  const fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
  const lines: string[] = [];
  const buf = Buffer.alloc(8192);
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') break;
        if (code === 'EPIPE') continue; // records were overwritten while we read
        throw err;
      }
      const line = buf.subarray(0, n).toString();
      if (line.includes(` pid=${pid} `)) lines.push(line);
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}

test('log: the call runs, and the kernel logs it (audit type 1326, SECCOMP_RET_LOG)', async (t) => {
  t.regex(readFileSync('/proc/sys/kernel/seccomp/actions_logged', 'utf8'), /\blog\b/);
  let pid = 0;
  const r = await underFilter(on('SCMP_ACT_LOG'), [call(GETPPID)], {}, (child) => {
    pid = child.pid;
  });
  t.is(r.calls[0]!.ret, process.pid);
  let lines: string[] = [];
  for (let i = 0; i < 40 && lines.length === 0; i++) {
    lines = auditFor(pid).filter((l) => l.includes(`syscall=${GETPPID} `) && l.includes('code=0x7ffc0000'));
    if (!lines.length) await new Promise((res) => setTimeout(res, 50));
  }
  t.is(lines.length, 1, `one audit record for pid ${pid}`);
});

test('user-notify: a supervisor receives the call and answers it', async (t) => {
  const f = compile(on('SCMP_ACT_NOTIFY'));
  const [r, w] = pipe2(O.CLOEXEC);
  const seen: Array<{ nr: number; a0: bigint; pid: number }> = [];
  let childPid = 0;
  try {
    const res = await underFilter(f, ['-w', '-c', call(GETPPID, 7), call(GETPPID, 8), call(GETPPID, 9)], { listener: true, extra: { stdio: [r] } }, (child) => {
      childPid = child.pid;
      close(r);
      const listener = takeListener(child.pid);
      try {
        write(w, new Uint8Array([1])); // go on: sc closes its copy of the listener, then calls
        for (const answer of [{ val: 4242 }, { error: 13 }, { continue: true }]) {
          const n = listener.recv();
          seen.push({ nr: n.nr, a0: n.args[0]!, pid: n.pid });
          listener.respond(n.id, answer);
        }
      } finally {
        listener.close();
      }
    });
    t.is(res.code, 0);
    t.deepEqual(res.calls, [{ ret: 4242, errno: 0 }, { ret: -1, errno: 13 }, { ret: process.pid, errno: 0 }]);
    t.deepEqual(seen, [7n, 8n, 9n].map((a0) => ({ nr: GETPPID, a0, pid: childPid })));
  } finally {
    close(w);
  }
});

// x32 exists only beside x86_64.
if (hostArch === 'x86_64') test('a foreign ABI is killed for real: an x32 call from an x86_64 process', async (t) => {
  const r = await underFilter(on('SCMP_ACT_ALLOW'), [call(GETPID), call(X32_SYSCALL_BIT | GETPID)]);
  t.is(r.signal, 'SIGSYS');
  t.is(r.calls.length, 1);
});
