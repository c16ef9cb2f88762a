// The published `nsk` bin is a bundle (scripts/bundle.ts: one entry and a
// chunk per command, koffi outside, the seccomp profile beside it). It must
// run a container exactly as the sources do: the default seccomp filter
// (read through the profile's URL), namespaces, the exit status.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { inNetns } from '@nsk/net';
import { hostState, leftSince, repositoryRoot } from '@nsk/testkit';
import { containersIn, standInNetns, stateDir } from './helpers.ts';

const root = repositoryRoot();
const bin = join(root, 'packages/cli/dist/bundle/nsk.mjs');
const state = stateDir();
const netns = standInNetns();
const before = hostState();

test.before(() => {
  execFileSync(process.execPath, ['--no-warnings', join(root, 'scripts/bundle.ts'), 'cli'], { stdio: ['ignore', 'ignore', 'pipe'] });
});

test.serial('the bundled nsk runs a container: seccomp filter, its own namespaces, the status', (t) => {
  t.true(existsSync(join(root, 'packages/cli/dist/profiles/default.json')), 'the default profile beside the bundle');
  const env = { ...process.env, NSK_STATE_DIR: state, NODE_COMPILE_CACHE: join(state, 'cc') };
  const r = inNetns(netns.fd, () => spawnSync(process.execPath, [bin, 'run', '--net', 'none', '--', 'sh', '-c', 'grep ^Seccomp: /proc/self/status; readlink /proc/self/ns/pid; exit 9'], { encoding: 'utf8', env, timeout: 60_000 }));
  t.is(r.status, 9, r.stderr);
  const [seccomp, pidns] = r.stdout.trim().split('\n');
  t.regex(seccomp!, /^Seccomp:\s+2$/);
  t.not(pidns, readlinkSync('/proc/self/ns/pid'));
  const bad = inNetns(netns.fd, () => spawnSync(process.execPath, [bin, 'run', '--net', 'none', '--', '/nope'], { encoding: 'utf8', env, timeout: 60_000 }));
  t.is(bad.status, 127);
  t.regex(bad.stderr, /execve\("\/nope".*ENOENT/);
  t.true(readdirSync(join(root, 'packages/cli/dist/bundle')).length > 1, 'commands are chunks of their own');
});

test.after.always('nothing left', (t) => {
  t.deepEqual(containersIn(state), []);
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});
