// Detached containers: a supervisor per container, and the commands that
// find them through the state directory — ps, logs, exec, stop, kill, rm,
// inspect — including one whose supervisor was SIGKILLed.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostState, leftSince } from '@nsk/testkit';
import type { ContainerRecord } from '../src/state.ts';
import { join } from 'node:path';
import { cgroupsOf, containersIn, leasesIn, linksOf, removeLeftovers, nskIn, processesWith, stateDir, waitFor } from './helpers.ts';

const nsk = nskIn(stateDir());
const before = hostState();

const record = (name: string): ContainerRecord => JSON.parse(readFileSync(`${nsk.state}/containers/${name}/state.json`, 'utf8')) as ContainerRecord;
const alive = (pid: number): boolean => {
  try {
    return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

test('-d prints the name; ps, logs, inspect and exec find the container; exec sees its PID 1', async (t) => {
  const up = nsk('run', '-d', '--net', 'none', '--name', 'd-web', '--hostname', 'web', '--', 'sh', '-c', 'echo started; echo oops >&2; exec sleep 60');
  t.is(up.stderr, '');
  t.is(up.stdout, 'd-web\n');
  t.is(up.status, 0);
  const rec = record('d-web');
  t.is(rec.status, 'running');
  t.true(alive(rec.pid));
  t.true(alive(rec.supervisor.pid));
  t.not(rec.supervisor.pid, process.pid);

  t.regex(nsk('ps').stdout, /^NAME +IMAGE +COMMAND +CREATED +STATUS +PORTS +PID\n(.*\n)*d-web +\/\S+ +sh -c .* +Up .* +\d+\n/m);
  await waitFor(() => nsk('logs', 'd-web').stdout === 'started\noops\n', 10_000, 'the log');

  const [inspected] = JSON.parse(nsk('inspect', 'd-web').stdout) as ContainerRecord[];
  t.is(inspected!.pid, rec.pid);
  t.is(inspected!.namespaces.pid, Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${rec.pid}/ns/pid`))![1]));

  const e = nsk('exec', 'd-web', '--', 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; hostname; readlink /proc/self/ns/pid; echo $$');
  t.is(e.stderr, '');
  t.is(e.status, 0);
  const [cmdline, hostname, pidns, mypid] = e.stdout.trim().split('\n');
  t.is(cmdline!.trim(), 'sleep 60');
  t.is(hostname, 'web');
  t.is(pidns, readlinkSync(`/proc/${rec.pid}/ns/pid`));
  t.true(Number(mypid) > 1);
  // exec's own flags, and its status.
  const f = nsk('exec', '-e', 'X=1', '-w', '/tmp', '-u', '65534', 'd-web', 'sh', '-c', 'echo $X $(pwd) $(id -u); exit 7');
  t.is(f.stdout, '1 /tmp 65534\n');
  t.is(f.status, 7);
  t.is(nsk('exec', 'd-web', '--', '/nope').status, 127);

  const rm = nsk('rm', 'd-web');
  t.is(rm.status, 125);
  t.regex(rm.stderr, /container d-web is running: stop it first/);
  t.is(nsk('rm', '-f', 'd-web').stdout, 'd-web\n');
  t.false(existsSync(`${nsk.state}/containers/d-web`));
  t.false(alive(rec.pid));
  await waitFor(() => !alive(rec.supervisor.pid), 5000, 'the supervisor to end');
});

// Serial (ava runs these first, alone): the bound is on wall time.
test.serial('stop of a container that ignores SIGTERM takes the grace period and no more', async (t) => {
  nsk('run', '-d', '--net', 'none', '--name', 'd-stubborn', '--', 'sleep', '60');
  const rec = record('d-stubborn');
  const t0 = Date.now();
  const stop = nsk.async(['stop', '-t', '2', 'd-stubborn']);
  // When did the container end, seen from here?
  let died = 0;
  while (!died) {
    await new Promise((r) => setTimeout(r, 5));
    if (!alive(rec.pid)) died = Date.now() - t0;
  }
  const r = await stop;
  const took = Date.now() - t0;
  t.log(`container ended ${died} ms after nsk stop -t 2 started; nsk stop took ${took} ms`);
  t.is(r.stdout, 'd-stubborn\n');
  t.true(died >= 2000, `ended after ${died} ms`);
  t.true(took < 3000, `nsk stop took ${took} ms`);
  const done = record('d-stubborn');
  t.is(done.status, 'exited');
  t.deepEqual(done.exit, { code: null, signal: 'SIGKILL', status: 137 });
  t.regex(nsk('ps', '-a').stdout, /d-stubborn .* Exited \(137\) /);
  t.notRegex(nsk('ps').stdout, /d-stubborn/);
  t.is(nsk('rm', 'd-stubborn').status, 0);
  t.deepEqual(cgroupsOf('nsk-d-stubborn'), []);
});

test.serial('stop of a container that handles SIGTERM ends as soon as it does, with its status', async (t) => {
  nsk('run', '-d', '--net', 'none', '--name', 'd-polite', '--', 'sh', '-c', 'trap "echo bye; exit 3" TERM; while :; do sleep 0.05; done');
  const t0 = Date.now();
  t.is((await nsk.async(['stop', 'd-polite'])).status, 0);
  t.true(Date.now() - t0 < 2500, `${Date.now() - t0} ms`);
  t.deepEqual(record('d-polite').exit, { code: 3, signal: null, status: 3 });
  t.is(nsk('logs', 'd-polite').stdout, 'bye\n');
  t.is(nsk('rm', 'd-polite').status, 0);
});

test('kill -s sends that signal; logs -f follows until the container ends', async (t) => {
  nsk('run', '-d', '--net', 'none', '--name', 'd-follow', '--', 'sh', '-c', 'trap "echo usr1; exit 5" USR1; echo waiting; while :; do sleep 0.05; done');
  const follow = nsk.async(['logs', '-f', 'd-follow']);
  await waitFor(() => nsk('logs', 'd-follow').stdout === 'waiting\n', 10_000, 'waiting');
  t.is(nsk('kill', '-s', 'USR1', 'd-follow').status, 0);
  const f = await follow;
  t.is(f.stdout, 'waiting\nusr1\n');
  t.is(f.status, 0);
  t.deepEqual(record('d-follow').exit?.status, 5);
  const k = nsk('kill', 'd-follow');
  t.is(k.status, 125);
  t.regex(k.stderr, /container d-follow is not running/);
  t.is(nsk('rm', 'd-follow').status, 0);
});

test('--rm: the record, log and cgroup go when the container exits', async (t) => {
  t.is(nsk('run', '-d', '--rm', '--net', 'none', '--name', 'd-gone', '--memory', '32m', '--', 'sh', '-c', 'sleep 0.3').status, 0);
  await waitFor(() => !containersIn(nsk.state).includes('d-gone'), 10_000, 'd-gone removed');
  t.deepEqual(cgroupsOf('nsk-d-gone'), []);
});

// Serial: any other test's nsk ps would clean it first.
test.serial('a container whose supervisor died is found by ps and cleaned: killed, cgroup removed, marked dead', async (t) => {
  t.is(nsk('run', '-d', '--net', 'none', '--name', 'd-orphan', '--memory', '32m', '--', 'sleep', '60').status, 0);
  const rec = record('d-orphan');
  t.true(cgroupsOf('nsk-d-orphan').length > 0);
  process.kill(rec.supervisor.pid, 'SIGKILL');
  await waitFor(() => !alive(rec.supervisor.pid), 5000, 'the supervisor to die');
  t.true(alive(rec.pid)); // nobody stopped the container
  t.notRegex(nsk('ps').stdout, /d-orphan/);
  t.false(alive(rec.pid));
  t.deepEqual(cgroupsOf('nsk-d-orphan'), []);
  t.regex(nsk('ps', '-a').stdout, /d-orphan .* Dead/);
  const dead = record('d-orphan');
  t.is(dead.status, 'dead');
  t.regex(dead.error!, /supervisor \(pid \d+\) died/);
  t.is(nsk('rm', 'd-orphan').status, 0);
  t.false(existsSync(`${nsk.state}/containers/d-orphan`));
});

// Serial: any other test's nsk ps would clean it first.
test.serial('rm cleans a container whose supervisor died, too', async (t) => {
  t.is(nsk('run', '-d', '--net', 'none', '--name', 'd-orphan2', '--pids-limit', '10', '--', 'sleep', '60').status, 0);
  const rec = record('d-orphan2');
  process.kill(rec.supervisor.pid, 'SIGKILL');
  await waitFor(() => !alive(rec.supervisor.pid), 5000, 'the supervisor to die');
  t.is(nsk('rm', 'd-orphan2').stdout, 'd-orphan2\n');
  t.false(alive(rec.pid));
  t.deepEqual(cgroupsOf('nsk-d-orphan2'), []);
});

// Serial: any other test's nsk ps would clean it first.
test.serial('a supervisor that died while starting: whatever it started is killed through the cgroup, the record removed', async (t) => {
  // As a supervisor SIGKILLed between clone and writing the record leaves
  // it: a 'created' record, and a container in cgroup /nsk-<name>.
  const name = 'd-half';
  const groups = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/unified'].filter((h) => existsSync(h)).map((h) => `${h}/nsk-${name}`);
  for (const g of groups) mkdirSync(g);
  const orphan = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
  for (const g of groups) writeFileSync(`${g}/cgroup.procs`, String(orphan.pid));
  const gone = spawnSync('true');
  mkdirSync(`${nsk.state}/containers/${name}`, { recursive: true });
  // `pending`: what the supervisor knew before starting it (@nsk/container pendingState()).
  writeFileSync(`${nsk.state}/containers/${name}/state.json`, JSON.stringify({
    name, status: 'created', supervisor: { pid: gone.pid, startTime: 1 }, detached: true, autoRemove: false, createdAt: new Date().toISOString(),
    pending: { name, cgroup: `/nsk-${name}` },
  }));
  t.notRegex(nsk('ps', '-a').stdout, /d-half/);
  await once(orphan, 'exit');
  t.is(orphan.signalCode, 'SIGKILL');
  t.deepEqual(cgroupsOf(`nsk-${name}`), []);
  t.false(containersIn(nsk.state).includes(name));
});

// Serial: any other test's nsk ps would clean it first.
test.serial('a bridge container whose supervisor died: ps releases its lease, its veth, its /etc files and the bridge', async (t) => {
  t.is(nsk('run', '-d', '--name', 'd-bridge', '-p', '8080:80', '--', 'sleep', '60').status, 0);
  const rec = record('d-bridge');
  const net = join(nsk.state, 'net');
  const veth = Object.values(leasesIn(net)!.leases).find((l) => l.id === 'd-bridge')!.veth;
  t.deepEqual(linksOf(nsk), ['lo', 'nsk0', veth].sort());
  t.true(existsSync(join(net, 'containers/d-bridge')));
  process.kill(rec.supervisor.pid, 'SIGKILL');
  await waitFor(() => !alive(rec.supervisor.pid), 5000, 'the supervisor to die');
  t.true(alive(rec.pid));
  t.regex(nsk('ps', '-a').stdout, /d-bridge .* Dead/);
  t.false(alive(rec.pid));
  t.regex(record('d-bridge').error!, new RegExp(`released its address ${rec.network!.address!.replace(/\./g, '\\.')}`));
  t.deepEqual(leasesIn(net)!.leases, {});
  t.false(leasesIn(net)!.createdBridge);
  t.deepEqual(linksOf(nsk), ['lo'], 'no veth, no bridge left in the namespace nsk ran in');
  t.false(existsSync(join(net, 'containers/d-bridge')));
  t.deepEqual(cgroupsOf('nsk-d-bridge'), []);
  t.is(nsk('rm', 'd-bridge').status, 0);
});

test('a detached start that fails reports why, with the status it would have had, and leaves nothing', (t) => {
  const r = nsk('run', '-d', '--net', 'none', '--name', 'd-fail', '--', '/nope');
  t.is(r.status, 127);
  t.regex(r.stderr, /^nsk: execute \/nope: execve.*ENOENT/);
  t.false(containersIn(nsk.state).includes('d-fail'));
  t.deepEqual(cgroupsOf('nsk-d-fail'), []);
  const dup = nsk('run', '-d', '--net', 'none', '--name', 'd-dup', '--', 'sleep', '60');
  t.is(dup.status, 0);
  const again = nsk('run', '-d', '--net', 'none', '--name', 'd-dup', '--', 'sleep', '60');
  t.is(again.status, 125);
  t.regex(again.stderr, /--name: the name "d-dup" is in use/);
  t.is(nsk('rm', '-f', 'd-dup').status, 0);
});

test.after.always('nothing is left behind', async (t) => {
  await waitFor(() => processesWith('__supervise d-').length === 0, 10_000, 'supervisors to end');
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
  t.deepEqual(removeLeftovers(nsk), []);
});
