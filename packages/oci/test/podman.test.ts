// podman (Debian's, through conmon) with nsk-runtime as its OCI runtime:
// run --rm, run -d + exec + stop + rm, and run -it under a real pty. The
// image is imported from a tar of testkit's busybox rootfs; no registry,
// `--network none` (no host network is touched).
import test from 'ava';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { hostState, leftSince, processesWith } from '@nsk/testkit';
import { DEFAULT_ROOT } from '../src/runtime/state.ts';
import { cgroupDirs, images, PodmanLab, removeNewCgroups, terminalLines } from './clients.ts';

const IMAGE = 'localhost/nsk-e2e:latest';
const before = hostState();
const cgroupsBefore = cgroupDirs();
const lab = new PodmanLab();
const ids: string[] = [];
/** What nsk-runtime knows of a container: its state file under the default --root (podman passes none). */
const stateOf = (id: string) => join(DEFAULT_ROOT, id);
/** podman's cgroupfs parent: libpod_parent/libpod-<id> in every hierarchy. */
const groupsOf = (id: string) => [...cgroupDirs()].filter((d) => d.endsWith(`/libpod-${id}`));

test.before(() => {
  const { rootfsTar } = images(lab.dir, IMAGE);
  const r = lab.podman('import', rootfsTar, IMAGE);
  if (r.code !== 0) throw new Error(`podman import: ${r.stderr}`);
});

test.serial('podman run --rm: the output, the exit code, nothing left of the container', (t) => {
  const r = lab.podman('run', '--rm', '--network', 'none', '--hostname', 'viapodman', IMAGE, 'sh', '-c', 'echo "hi from $(hostname)"; cat /proc/self/status | grep NoNewPrivs; exit 7');
  t.is(r.code, 7, r.stderr);
  t.regex(r.stdout, /^hi from viapodman$/m);
  const bad = lab.podman('run', '--rm', '--network', 'none', IMAGE, '/no/such/program');
  t.not(bad.code, 0);
  t.regex(bad.stderr, /no\/such\/program/);
  t.deepEqual(lab.podman('ps', '-aq').stdout.trim(), '');
});

test.serial('podman run -d, exec, stop, rm: nsk-runtime holds it, exec joins its namespaces and cgroups', async (t) => {
  const r = lab.podman('run', '-d', '--network', 'none', IMAGE, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.2; done');
  t.is(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  ids.push(id);
  const pid = Number(lab.podman('inspect', '--format', '{{.State.Pid}}', id).stdout.trim());
  t.true(pid > 0);
  // It is ours: nsk-runtime's state file names the same process.
  const saved = JSON.parse(readFileSync(join(stateOf(id), 'state.json'), 'utf8')) as { pid: number };
  t.is(saved.pid, pid);
  t.is(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'sh');
  t.not(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync('/proc/self/ns/pid'));
  t.true(groupsOf(id).length > 0, 'its cgroups exist under libpod_parent');
  t.true(readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`libpod-${id}`));

  const e = lab.podman('exec', id, 'sh', '-c', 'for n in pid mnt net uts ipc; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup | grep pids');
  t.is(e.code, 0, e.stderr);
  const lines = e.stdout.trim().split('\n');
  t.deepEqual(lines.slice(0, 5), ['pid', 'mnt', 'net', 'uts', 'ipc'].map((k) => readlinkSync(`/proc/${pid}/ns/${k}`)));
  t.regex(lines[5]!, new RegExp(`libpod-${id}`));
  t.is(lab.podman('exec', id, 'sh', '-c', 'exit 5').code, 5, 'exec passes the exit code back');

  const s = lab.podman('stop', '--time', '5', id);
  t.is(s.code, 0, s.stderr);
  t.is(lab.podman('inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id).stdout.trim(), 'exited 0');
  t.is(lab.podman('rm', id).code, 0);
  t.false(existsSync(stateOf(id)), 'nsk-runtime state removed');
  t.deepEqual(groupsOf(id), [], 'its cgroups removed');
});

test.serial('podman run -it: the program has a terminal of the size podman was given, and its exit code comes back', (t) => {
  // podman 4.3 with conmon 2.1.6 may drop what a pty program wrote just
  // before it exited: on a loaded machine, `stty size; exit 3` lost its
  // output in 9 of 30 runs with runc and 2 of 30 with nsk-runtime (ctr's
  // shim lost none). Its CI run once failed that way. The pause before the
  // exit keeps this test about the terminal: 0 of 25 runs lost output with
  // either runtime under the same load.
  const r = lab.podmanTty({ rows: 33, cols: 77 }, 'run', '-it', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'test -t 0 && test -t 1 && echo on-a-tty; stty size; sleep 1; exit 3');
  t.is(r.code, 3, r.stdout + r.stderr);
  const lines = terminalLines(r.stdout);
  t.true(lines.includes('on-a-tty'), JSON.stringify(r.stdout));
  t.true(lines.includes('33 77'), JSON.stringify(r.stdout));
});

test.after.always('nothing left: containers, nsk-runtime state, cgroups, mounts, processes', (t) => {
  lab.close();
  for (const id of ids) t.false(existsSync(stateOf(id)));
  t.deepEqual(processesWith(lab.dir), [], 'no conmon or container process of the lab');
  // podman's own cgroupfs parents (libpod_parent, libpod_parent/conmon) go;
  // a libpod-<id> group left by the runtime would be found here first.
  t.deepEqual([...cgroupDirs()].filter((d) => /\/libpod-[0-9a-f]{64}$/.test(d)), []);
  // (other test files run beside this one: only this client's tree is judged)
  removeNewCgroups(cgroupsBefore, ['/libpod_parent']);
  t.deepEqual([...cgroupDirs()].filter((d) => d.includes('/libpod_parent') && !cgroupsBefore.has(d)), []);
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
});
