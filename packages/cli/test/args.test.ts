// The command line's grammar, and bad input: every mistake exits 125 with
// a message naming the flag, and nothing is created (no state, no cgroup,
// no mount, no process).
import test from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { parse } from '../src/args.ts';
import { parseEnv, parsePublish, parseSize, parseVolume, specFromFlags } from '../src/run-flags.ts';
import { spec as runSpec } from '../src/commands/run.ts';
import { spec as execSpec } from '../src/commands/exec.ts';
import { signalName } from '../src/signals.ts';
import { cgroupsOf, containersIn, removeLeftovers, nskIn, processesWith, stateDir } from './helpers.ts';

const nsk = nskIn(stateDir());
const before = hostState();

test('options end at the first positional (the image or container), as docker’s', (t) => {
  const p = parse<Record<string, unknown>>(runSpec, ['-it', '--rm', '-e', 'A=1', '-eB=2', 'img', 'sh', '-c', 'ls -l']);
  t.deepEqual(p?.values, { interactive: true, tty: true, rm: true, env: ['A=1', 'B=2'] });
  t.deepEqual(p?.positionals, ['img', 'sh', '-c', 'ls -l']);
  t.is(p?.afterDashes, null);
  const q = parse(runSpec, ['--net', 'none', '--', 'sh', '-x']);
  t.deepEqual(q?.positionals, []);
  t.deepEqual(q?.afterDashes, ['sh', '-x']);
  const e = parse(execSpec, ['-t', 'web', 'ls', '-l']);
  t.deepEqual(e?.positionals, ['web', 'ls', '-l']);
  t.is(parse(runSpec, ['--help']), null);
});

test('flag mistakes are usage errors naming the flag', (t) => {
  const msg = (argv: string[]) => t.throws(() => parse(runSpec, argv))!.message.split('\n')[0];
  t.is(msg(['--bogus']), 'nsk run: unknown flag --bogus');
  t.is(msg(['-z']), 'nsk run: unknown flag -z');
  t.is(msg(['--hostname']), 'nsk run: flag --hostname needs a value');
  t.is(msg(['--hostname', '--rm', '--', 'x']), 'nsk run: flag --hostname needs a value');
  t.is(msg(['--name', 'a', '--name', 'b']), 'nsk run: flag --name given twice');
  t.is(msg(['--name=']), 'nsk run: flag --name needs a non-empty value');
  t.is(msg(['--rm=yes']), 'nsk run: flag --rm takes no value');
});

test('values are parsed as docker reads them', (t) => {
  t.is(parseSize('memory', '64m'), 64 * 1024 * 1024);
  t.is(parseSize('memory', '1G'), 1024 ** 3);
  t.is(parseSize('memory', '512k'), 512 * 1024);
  t.is(parseSize('memory', '1048576'), 1048576);
  t.throws(() => parseSize('memory', 'lots'), { message: /memory: "lots" is not a size/ });
  t.deepEqual(parsePublish('8080:80'), { host: 8080, container: 80, protocol: 'tcp' });
  t.deepEqual(parsePublish('5353:53/udp'), { host: 5353, container: 53, protocol: 'udp' });
  t.throws(() => parsePublish('80'), { message: /publish: "80" is not HOSTPORT:CONTAINERPORT/ });
  t.throws(() => parsePublish('70000:80'), { message: /ports 1–65535/ });
  t.deepEqual(parseVolume('/srv:/data:ro'), { host: '/srv', container: '/data', readonly: true });
  t.deepEqual(parseVolume('/srv:/data'), { host: '/srv', container: '/data' });
  t.is(parseVolume('./x:/data').host, `${process.cwd()}/x`);
  t.throws(() => parseVolume('named:/data'), { message: /named volumes are not supported/ });
  t.throws(() => parseVolume('/srv:data'), { message: /container path must be absolute/ });
  process.env.NSK_TEST_FROM_HOST = 'here';
  t.deepEqual(parseEnv(['A=1', 'NSK_TEST_FROM_HOST', 'NSK_TEST_UNSET_XYZ']), ['A=1', 'NSK_TEST_FROM_HOST=here']);
  t.is(signalName('term'), 'SIGTERM');
  t.is(signalName('SIGUSR1'), 'SIGUSR1');
  t.is(signalName('9'), 'SIGKILL');
  t.is(signalName('NOPE'), null);
});

test('the flags become a ContainerSpec', (t) => {
  const s = specFromFlags({
    hostname: 'h', env: ['A=1'], workdir: '/w', user: '1:2', volume: ['/srv:/d:ro'], net: 'bridge', publish: ['8080:80'],
    memory: '64m', cpus: '0.5', 'pids-limit': '20', 'cap-add': ['NET_ADMIN'], 'cap-drop': ['ALL'], seccomp: 'unconfined',
    rootless: true, 'read-only': true, tty: true,
  }, ['sh'], 'busybox');
  t.deepEqual(s, {
    image: 'busybox', command: ['sh'], env: ['A=1'], cwd: '/w', user: '1:2', hostname: 'h', network: 'bridge',
    publish: [{ host: 8080, container: 80, protocol: 'tcp' }], volumes: [{ host: '/srv', container: '/d', readonly: true }],
    memory: 64 * 1024 * 1024, cpus: 0.5, pidsLimit: 20, capAdd: ['NET_ADMIN'], capDrop: ['ALL'], seccomp: 'unconfined',
    rootless: true, readonlyRootfs: true, tty: true,
  });
});

test.serial('bad input exits 125 with a clear message, before anything is created', (t) => {
  const cases: [string[], RegExp][] = [
    [['run', '--bogus', '--', 'true'], /^nsk run: unknown flag --bogus\nSee 'nsk run --help'\.\n$/],
    [['run', '--net', 'wifi', '--', 'true'], /^nsk run: --net: "wifi" is not one of none, host, bridge\n$/],
    [['run', '--memory', 'lots', '--', 'true'], /^nsk run: --memory: "lots" is not a size/],
    [['run', '--memory', '1k', '--', 'true'], /^nsk run: --memory: .*at least 6 MiB/],
    [['run', '--cpus', '-1', '--', 'true'], /^nsk run: flag --cpus needs a value/],
    [['run', '--cpus=-1', '--', 'true'], /^nsk run: --cpus: "-1" is not a number of CPUs/],
    [['run', '--pids-limit', 'x', '--', 'true'], /^nsk run: --pids-limit: "x" is not a number/],
    [['run', '-p', '80', '--', 'true'], /^nsk run: -p: "80" is not HOSTPORT:CONTAINERPORT/],
    [['run', '-v', '/nonexistent/nsk-cli:/data', '--', 'true'], /^nsk run: -v: \/nonexistent\/nsk-cli does not exist\n$/],
    [['run', '--rootfs', '/nonexistent/nsk-cli', '--', 'true'], /^nsk run: --rootfs: \/nonexistent\/nsk-cli is not a directory\n$/],
    [['run', '--rootfs', '/tmp', 'busybox', '--', 'true'], /^nsk run: give --rootfs DIR or an IMAGE, not both/],
    [['run', '--name', 'bad/name', '--', 'true'], /^nsk run: --name: "bad\/name" must be/],
    [['run', '--hostname', 'x'.repeat(65), '--', 'true'], /^nsk run: --hostname: is 65 bytes/],
    [['run', '--cap-add', 'CAP_NOPE', '--', 'true'], /^nsk run: --cap-add: unknown capability "CAP_NOPE"/],
    [['run', '--seccomp', '/nonexistent/profile.json', '--', 'true'], /^nsk run: --seccomp: cannot read the profile \/nonexistent\/profile.json: ENOENT/],
    [['run', '-w', 'rel', '--', 'true'], /^nsk run: -w: "rel" must be an absolute path/],
    [['run', '-d', '-i', '--', 'true'], /^nsk run: -i: a detached container \(-d\) has no stdin to attach/],
    [['run', '--net', 'none', '-p', '8080:80', '--', 'true'], /^nsk run: -p: ports are published to a bridge network/],
    [['frobnicate'], /^nsk: unknown command "frobnicate"\nSee 'nsk --help'\.\n$/],
    [['ps', 'extra'], /^nsk ps: unexpected argument extra/],
    [['stop', '-t', 'soon', 'x'], /^nsk stop: -t soon is not a number of seconds/],
    [['kill', '-s', 'NOPE', 'x'], /^nsk kill: unknown signal NOPE/],
    [['exec', 'x'], /^nsk exec: missing COMMAND/],
    [['logs'], /^nsk logs: missing NAME/],
    [['rm', 'no-such-container'], /^nsk: no such container: no-such-container\n$/],
    [['inspect', 'no-such-container'], /^nsk: no such container: no-such-container\n$/],
    [['ns', '-t', 'nope'], /^nsk ns: unknown namespace kind nope/],
  ];
  for (const [argv, stderr] of cases) {
    // A name of our own, to look for what a run might have made.
    const r = nsk(...(argv[0] === 'run' && !argv.includes('--name') ? ['run', '--name', 'argtest', ...argv.slice(1)] : argv));
    t.is(r.status, 125, argv.join(' '));
    t.regex(r.stderr, stderr, argv.join(' '));
    t.is(r.stdout, '', argv.join(' '));
  }
  t.deepEqual(containersIn(nsk.state), []);
  t.deepEqual(cgroupsOf('argtest'), []);
  t.deepEqual(processesWith('__supervise argtest'), []);
});

test('--help prints each command’s usage and exits 0', (t) => {
  for (const c of ['run', 'ps', 'logs', 'exec', 'stop', 'kill', 'rm', 'inspect', 'images', 'import', 'pull', 'rmi', 'ns', 'doctor']) {
    const r = nsk(c, '--help');
    t.is(r.status, 0, c);
    t.true(r.stdout.startsWith(`usage: nsk ${c} `), c);
    t.regex(r.stdout, /-h, --help/, c);
  }
  const top = nsk('--help');
  t.is(top.status, 0);
  t.regex(top.stdout, /^usage: nsk COMMAND/);
  t.regex(nsk('run', '--help').stdout, /--pids-limit N\s+at most N processes/);
});

test.after.always('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
  t.deepEqual(removeLeftovers(nsk), []);
});
