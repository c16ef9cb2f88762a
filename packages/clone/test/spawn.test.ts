import test from 'ava';
import { readlinkSync } from 'node:fs';
import { Plan, SyscallError, ValidationError, spawn, liveChildren } from '../src/index.ts';
import { ALL7, capture, childrenOfThisProcess, openFds, rootMap, status } from './helpers.ts';

test.serial('a child in all seven namespaces is PID 1, with no ignored or blocked signal, only fds 0-2, and the hostname asked for', async (t) => {
  const plan = new Plan();
  plan.sethostname('nsk-box');
  const out = capture();
  // Ignore a signal here: the child must not inherit it (Node already ignores SIGPIPE).
  process.on('SIGUSR2', () => {});
  const child = await spawn({ argv: ['/bin/sh', '-c', 'hostname; exec sleep 5'], namespaces: ALL7, features: [rootMap()], plan, stdio: [0, out.fd, 2] });
  try {
    await new Promise((r) => setTimeout(r, 200));
    t.is(status(child.pid, 'NSpid').split(/\s+/).at(-1), '1');
    t.is(status(child.pid, 'SigIgn'), '0000000000000000');
    t.is(status(child.pid, 'SigBlk'), '0000000000000000');
    t.deepEqual(openFds(child.pid), ['0', '1', '2']);
    for (const ns of ALL7) {
      const file = ns === 'mount' ? 'mnt' : ns;
      t.not(readlinkSync(`/proc/${child.pid}/ns/${file}`), readlinkSync(`/proc/self/ns/${file}`), `${ns} namespace differs`);
    }
  } finally {
    child.kill('SIGKILL');
  }
  t.is((await out.text()).trim(), 'nsk-box');
  t.deepEqual(await child.exited, { code: null, signal: 'SIGKILL', status: 137 });
});

test.serial('1000 children in a row in seven namespaces leave no zombie and no fd behind', async (t) => {
  const before = openFds();
  for (let i = 0; i < 1000; i++) {
    const child = await spawn({ argv: ['/bin/true'], namespaces: ALL7, features: [rootMap()] });
    const s = await child.exited;
    if (s.code !== 0) t.fail(`run ${i}: ${JSON.stringify(s)}`);
  }
  t.deepEqual(openFds(), before);
  t.deepEqual(childrenOfThisProcess(), []);
  t.is(liveChildren(), 0);
});

test.serial('50 children at once all start and exit 0', async (t) => {
  const before = openFds();
  const results = await Promise.all(Array.from({ length: 50 }, async () => {
    const child = await spawn({ argv: ['/bin/true'], namespaces: ALL7, features: [rootMap()] });
    return (await child.exited).code;
  }));
  t.deepEqual(results, Array(50).fill(0));
  t.deepEqual(openFds(), before);
  t.deepEqual(childrenOfThisProcess(), []);
});

test.serial('a mount with a bad filesystem type fails naming that step and ENODEV; nothing is left', async (t) => {
  const before = openFds();
  const plan = new Plan();
  plan.mount('none', '/mnt', 'nsk-no-such-fs');
  const err = await t.throwsAsync(spawn({ argv: ['/bin/true'], namespaces: ['user', 'mount'], features: [rootMap()], plan }), { instanceOf: SyscallError });
  t.is(err.errno, 'ENODEV');
  t.is(err.syscall, 'mount');
  t.is(err.step, 'mount nsk-no-such-fs on /mnt');
  t.is(err.path, 'none');
  t.regex(err.message, /^mount nsk-no-such-fs on \/mnt: mount\("none", "\/mnt", "nsk-no-such-fs", 0, NULL\): ENODEV/);
  t.deepEqual(openFds(), before);
  t.deepEqual(childrenOfThisProcess(), []);
});

test.serial('a missing executable fails naming execve and ENOENT, and the parent carries on', async (t) => {
  const before = openFds();
  const err = await t.throwsAsync(spawn({ argv: ['/nonexistent/nsk-program'], namespaces: ['pid'] }), { instanceOf: SyscallError });
  t.is(err.syscall, 'execve');
  t.is(err.errno, 'ENOENT');
  t.is(err.step, 'execute /nonexistent/nsk-program');
  t.deepEqual(openFds(), before);
  t.deepEqual(childrenOfThisProcess(), []);
  const child = await spawn({ argv: ['/bin/true'] });
  t.is((await child.exited).code, 0);
});

test.serial('the event loop keeps running while a child sleeps for a second', async (t) => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 50);
  const child = await spawn({ argv: ['/bin/sleep', '1'], namespaces: ['pid'] });
  const started = performance.now();
  await child.exited;
  clearInterval(timer);
  t.true(performance.now() - started >= 900);
  t.true(ticks >= 15, `ticked ${ticks} times`);
});

test.serial('exit codes and signals come back as a shell reports them', async (t) => {
  const a = await spawn({ argv: ['/bin/sh', '-c', 'exit 7'] });
  t.deepEqual(await a.exited, { code: 7, signal: null, status: 7 });
  const b = await spawn({ argv: ['/bin/sleep', '10'] });
  t.true(b.kill('SIGTERM'));
  t.deepEqual(await b.exited, { code: null, signal: 'SIGTERM', status: 143 });
  t.false(b.kill('SIGTERM'));
});

test.serial('a child that does not share memory (no CLONE_VM) runs the same plan', async (t) => {
  const plan = new Plan();
  plan.sethostname('forked');
  const out = capture();
  const child = await spawn({ argv: ['/bin/hostname'], namespaces: ['user', 'uts'], features: [rootMap()], plan, stdio: [0, out.fd, 2], shareMemory: false });
  t.is((await child.exited).code, 0);
  t.is((await out.text()).trim(), 'forked');
});

test.serial('bad options are refused before anything is created', async (t) => {
  const before = openFds();
  await t.throwsAsync(spawn({ argv: [] }), { instanceOf: ValidationError, message: /argv/ });
  await t.throwsAsync(spawn({ argv: ['true'] }), { instanceOf: ValidationError, message: /path: "true" has no "\/"/ });
  await t.throwsAsync(spawn({ argv: ['/bin/true'], env: ['NOEQUALS'] }), { instanceOf: ValidationError, message: /env/ });
  await t.throwsAsync(spawn({ argv: ['/bin/true'], stdio: [0, 999, 2] }), { instanceOf: ValidationError, message: /stdio\[1\]: fd 999 is not open/ });
  await t.throwsAsync(spawn({ argv: ['/bin/true'], namespaces: ['time' as 'pid'] }), { instanceOf: ValidationError, message: /time namespace/ });
  await t.throwsAsync(spawn({ argv: ['/bin/true'], namespaces: ['nope' as 'pid'] }), { instanceOf: ValidationError, message: /unknown namespace "nope"/ });
  t.deepEqual(openFds(), before);
});
