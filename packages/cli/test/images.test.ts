// Images: import, images, run IMAGE (an overlay of its layers with a fresh
// upper per container), rmi; and the store's container directory cleaned
// when a supervisor died.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostState, leftSince, testRootfs } from '@nsk/testkit';
import { removeLeftovers, nskIn, stateDir, waitFor } from './helpers.ts';

const scratch = mkdtempSync(join(tmpdir(), 'nsk-cli-images-'));
process.env.NSK_STORE_DIR = join(scratch, 'store');
const nsk = nskIn(stateDir());
const before = hostState();
const tarball = join(scratch, 'busybox.tar');
execFileSync('tar', ['-C', testRootfs(), '-cf', tarball, '.']);
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

test.serial('import a docker export tar: it needs a name, then images lists it', (t) => {
  const unnamed = nsk('import', tarball);
  t.is(unnamed.status, 125);
  t.regex(unnamed.stderr, /^nsk import: .* with --name NAME\[:TAG\]\n/);
  const r = nsk('import', '--name', 'bb:1', tarball);
  t.is(r.stderr, '');
  t.is(r.status, 0);
  t.regex(r.stdout, /^[0-9a-f]{12} bb:1\n$/);
  const id = r.stdout.slice(0, 12);
  t.regex(nsk('images').stdout, new RegExp(`^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\\nbb +1 +${id} +.* ago +[\\d.]+[kM]B\\n$`));
  t.is(nsk('images', '-q').stdout, `${id}\n`);
});

test.serial('run IMAGE: its layers under a fresh writable layer per container', (t) => {
  const a = nsk('run', '--net', 'none', 'bb:1', '--', 'sh', '-c', 'test -e /mine && echo seen; touch /mine && echo written; grep " / " /proc/mounts | cut -d" " -f3');
  t.is(a.stderr, '');
  t.is(a.stdout, 'written\noverlay\n');
  // Without --, the first argument is the image and the rest the command.
  const b = nsk('run', '--net', 'none', 'bb:1', 'sh', '-c', 'test -e /mine && echo seen || echo fresh');
  t.is(b.stdout, 'fresh\n');
  t.deepEqual(readdirSync(join(process.env.NSK_STORE_DIR!, 'containers')), []);
  const missing = nsk('run', '--net', 'none', 'no-such-image:9', '--', 'true');
  t.is(missing.status, 125);
  t.regex(missing.stderr, /no-such-image/);
});

test.serial('an image container whose supervisor died: rm removes its directory in the store too', async (t) => {
  t.is(nsk('run', '-d', '--net', 'none', '--name', 'img-orphan', 'bb:1', '--', 'sleep', '60').status, 0);
  const rec = JSON.parse(readFileSync(`${nsk.state}/containers/img-orphan/state.json`, 'utf8')) as { pid: number; supervisor: { pid: number }; rootfs: string };
  t.true(existsSync(join(process.env.NSK_STORE_DIR!, 'containers', 'img-orphan')));
  process.kill(rec.supervisor.pid, 'SIGKILL');
  await waitFor(() => !alive(rec.supervisor.pid), 5000, 'the supervisor to die');
  t.is(nsk('rm', 'img-orphan').status, 0);
  t.false(alive(rec.pid));
  t.false(existsSync(join(process.env.NSK_STORE_DIR!, 'containers', 'img-orphan')));
});

test.serial('rmi removes the image and the layers no image uses', (t) => {
  const r = nsk('rmi', 'bb:1');
  t.is(r.status, 0);
  t.regex(r.stdout, /^Removed: bb:1\nDeleted layer: sha256:[0-9a-f]{64}\n$/);
  t.is(nsk('images', '-q').stdout, '');
  t.deepEqual(readdirSync(join(process.env.NSK_STORE_DIR!, 'layers', 'sha256')), []);
  const again = nsk('rmi', 'bb:1');
  t.is(again.status, 125);
});

test('pull: a malformed reference is refused before any connection', (t) => {
  const r = nsk('pull', '--insecure', 'UPPER/Case::bad');
  t.is(r.status, 125);
  t.regex(r.stderr, /^nsk: /);
});

test.after.always('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
  t.deepEqual(removeLeftovers(nsk), []);
});
