// containerd (Debian's 1.6, started here on a private socket) driving
// nsk-runtime through its runc shim: `ctr run --runc-binary`. The image is
// a `docker save` archive the test writes from testkit's busybox rootfs.
import test from 'ava';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { hostState, leftSince, processesWith } from '@nsk/testkit';
import { cgroupDirs, ContainerdLab, images, removeNewCgroups, terminalLines } from './clients.ts';

const IMAGE = 'localhost/nsk-e2e:latest';
const before = hostState();
const cgroupsBefore = cgroupDirs();
const lab = new ContainerdLab();
/** ctr's cgroup for a container: /nsk-e2e/<id> in every hierarchy (--cgroup). */
const groupsOf = (id: string) => [...cgroupDirs()].filter((d) => d.endsWith(`/nsk-e2e/${id}`));

test.before(async () => {
  await lab.start();
  const { dockerArchive } = images(lab.dir, IMAGE);
  const r = lab.ctr('images', 'import', dockerArchive);
  if (r.code !== 0) throw new Error(`ctr images import: ${r.stderr}`);
});

test.serial('ctr run --rm: the shim calls nsk-runtime; output, exit code, nothing left', (t) => {
  const r = lab.ctr('run', '--rm', ...lab.runOptions(), '--cgroup', '/nsk-e2e/once', IMAGE, 'once', 'sh', '-c', 'echo "hello from $(cat /proc/self/comm)"; exit 6');
  t.is(r.code, 6, r.stderr);
  t.regex(r.stdout, /^hello from cat$/m);
  t.deepEqual(readdirSync(lab.runcRoot).filter((n) => n !== '.' && existsSync(join(lab.runcRoot, n, 'once'))), [], 'no state left under --runc-root');
  t.deepEqual(groupsOf('once'), []);
});

test.serial('ctr run -d, task exec, kill, rm: exec joins the namespaces of the task', (t) => {
  const r = lab.ctr('run', '-d', ...lab.runOptions(), '--cgroup', '/nsk-e2e/bg', IMAGE, 'bg', 'sleep', '60');
  t.is(r.code, 0, r.stderr);
  const line = lab.ctr('task', 'ls').stdout.split('\n').find((l) => l.startsWith('bg '));
  t.truthy(line);
  const pid = Number(line!.split(/\s+/)[1]);
  t.regex(line!, /RUNNING/);
  // nsk-runtime's state for it, under the root the shim gave (--runc-root/<namespace>).
  const saved = JSON.parse(readFileSync(join(lab.runcRoot, 'nsk-e2e', 'bg', 'state.json'), 'utf8')) as { pid: number };
  t.is(saved.pid, pid);
  t.is(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'sleep');
  t.true(groupsOf('bg').length > 0);

  const e = lab.ctr('task', 'exec', '--exec-id', 'e1', 'bg', 'sh', '-c', 'for n in pid mnt net uts ipc; do readlink /proc/self/ns/$n; done; exit 4');
  t.is(e.code, 4, e.stderr);
  t.deepEqual(e.stdout.trim().split('\n'), ['pid', 'mnt', 'net', 'uts', 'ipc'].map((k) => readlinkSync(`/proc/${pid}/ns/${k}`)));

  t.is(lab.ctr('task', 'kill', '-s', 'SIGKILL', 'bg').code, 0);
  for (let i = 0; i < 100 && !/STOPPED/.test(lab.ctr('task', 'ls').stdout); i++) spinWait(20);
  t.regex(lab.ctr('task', 'ls').stdout, /bg\s+\d+\s+STOPPED/);
  t.is(lab.ctr('task', 'rm', 'bg').code, 0);
  t.is(lab.ctr('containers', 'rm', 'bg').code, 0);
  t.false(existsSync(join(lab.runcRoot, 'nsk-e2e', 'bg')));
  t.deepEqual(groupsOf('bg'), []);
});

test.serial('ctr run -t: a pty from the shim (console socket), the exit code back', (t) => {
  const r = lab.ctrTty({ rows: 30, cols: 90 }, 'run', '-t', '--rm', ...lab.runOptions(), '--cgroup', '/nsk-e2e/tty', IMAGE, 'tty', 'sh', '-c', 'test -t 0 && test -t 1 && echo on-a-tty; exit 2');
  t.is(r.code, 2, r.stdout + r.stderr);
  const lines = terminalLines(r.stdout);
  t.true(lines.includes('on-a-tty'), JSON.stringify(r.stdout));
  t.deepEqual(groupsOf('tty'), []);
});

function spinWait(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test.after.always('nothing left: tasks, nsk-runtime state, cgroups, mounts, processes', async (t) => {
  await lab.close();
  t.deepEqual(processesWith(lab.dir), [], 'no shim or container process of the lab');
  // ctr's cgroup parent /nsk-e2e is made by the runtime (as runc does) and
  // outlives the containers; the containers' own groups are gone.
  t.deepEqual([...cgroupDirs()].filter((d) => /\/nsk-e2e\/[^/]+$/.test(d)), []);
  // (other test files run beside this one: only this client's tree is judged)
  removeNewCgroups(cgroupsBefore, ['/nsk-e2e']);
  t.deepEqual([...cgroupDirs()].filter((d) => d.includes('/nsk-e2e') && !cgroupsBefore.has(d)), []);
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});
