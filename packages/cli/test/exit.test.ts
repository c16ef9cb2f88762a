// Exit statuses (docker's: the command's own, 126/127 when it cannot run,
// 125 for nsk, 128+N when signal N ended it) and signals sent to nsk
// reaching the container.
import test from 'ava';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { hostState, leftSince } from '@nsk/testkit';
import { cgroupsOf, containersIn, removeLeftovers, descendant, nskIn, stateDir, waitFor } from './helpers.ts';

const nsk = nskIn(stateDir());
const before = hostState();

test('the status is the command’s', (t) => {
  t.is(nsk('run', '--net', 'none', '--', 'sh', '-c', 'exit 42').status, 42);
  t.is(nsk('run', '--net', 'none', '--', 'true').status, 0);
  t.is(nsk('run', '--net', 'none', '--', 'false').status, 1);
});

test('127 when the command is not found, 126 when it cannot be executed; the message names execve', (t) => {
  const missing = nsk('run', '--net', 'none', '--', '/nope');
  t.is(missing.status, 127);
  t.regex(missing.stderr, /^nsk: execute \/nope: execve\("\/nope", \["\/nope"\], .*\): ENOENT — No such file or directory\n$/);
  const searched = nsk('run', '--net', 'none', '--', 'no-such-program');
  t.is(searched.status, 127);
  t.regex(searched.stderr, /ENOENT/);
  const notExec = nsk('run', '--net', 'none', '--', '/etc/passwd');
  t.is(notExec.status, 126);
  t.regex(notExec.stderr, /execve\("\/etc\/passwd".*EACCES/);
  const dir = nsk('run', '--net', 'none', '--', '/etc');
  t.is(dir.status, 126);
});

test('128 + N when signal N ended the container (SIGKILL from outside: 137)', async (t) => {
  const c = nsk.start(['run', '--net', 'none', '--', 'sleep', '30'], { stdio: 'ignore' });
  const sleeper = await waitFor(() => descendant(c.pid!, 'sleep'), 15_000, 'the container');
  process.kill(sleeper, 'SIGKILL');
  const [code] = (await once(c, 'close')) as [number];
  t.is(code, 137);
});

test('signals sent to nsk reach the container', async (t) => {
  // Each trap says which signal arrived; TERM ends it with a status of its choosing.
  const script = [
    ...['INT', 'HUP', 'QUIT', 'USR1', 'USR2', 'WINCH', 'ALRM', 'CONT'].map((s) => `trap "echo got ${s}" ${s}`),
    'trap "echo got TERM; exit 3" TERM',
    'echo ready',
    'while :; do sleep 0.05; done',
  ].join('; ');
  const c = nsk.start(['run', '--net', 'none', '--', 'sh', '-c', script]);
  let out = '';
  c.stdout!.on('data', (d) => { out += String(d); });
  await waitFor(() => out.includes('ready'), 15_000, 'ready');
  for (const s of ['SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGALRM', 'SIGCONT'] as const) {
    c.kill(s);
    await waitFor(() => out.includes(`got ${s.slice(3)}`), 20_000, s);
  }
  c.kill('SIGTERM');
  const [code] = (await once(c, 'close')) as [number];
  t.is(code, 3);
  t.true(out.endsWith('got TERM\n'));
  t.deepEqual(out.trim().split('\n'), ['ready', 'got INT', 'got HUP', 'got QUIT', 'got USR1', 'got USR2', 'got WINCH', 'got ALRM', 'got CONT', 'got TERM']);
});

test('a PID 1 with no handler ignores the forwarded SIGTERM (pid_namespaces(7)); nsk kill ends it', async (t) => {
  const c = nsk.start(['run', '--net', 'none', '--name', 'stubborn', '--', 'sleep', '30'], { stdio: 'ignore' });
  const sleeper = await waitFor(() => descendant(c.pid!, 'sleep'), 15_000, 'the container');
  await waitFor(() => containersIn(nsk.state).includes('stubborn') && readFileSync(`${nsk.state}/containers/stubborn/state.json`, 'utf8').includes('"running"'), 5000, 'the record');
  c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  t.true(readFileSync(`/proc/${sleeper}/stat`, 'utf8').includes(') S '));
  t.is(nsk('kill', 'stubborn').stdout, 'stubborn\n');
  const [code] = (await once(c, 'close')) as [number];
  t.is(code, 137);
});

test('a foreground container is recorded while it runs, and removed with everything else when it ends', async (t) => {
  const c = nsk.start(['run', '--net', 'none', '--name', 'fg', '--memory', '32m', '--', 'sleep', '2'], { stdio: 'ignore' });
  await waitFor(() => nsk('ps', '-q').stdout.split('\n').includes('fg'), 10_000, 'fg in nsk ps');
  t.true(cgroupsOf('nsk-fg').length > 0);
  const [code] = (await once(c, 'close')) as [number];
  t.is(code, 0);
  t.false(containersIn(nsk.state).includes('fg'));
  t.deepEqual(cgroupsOf('nsk-fg'), []);
});

test.after.always('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
  t.deepEqual(removeLeftovers(nsk), []);
});
