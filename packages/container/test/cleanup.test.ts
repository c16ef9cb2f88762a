// Nothing is left behind — after a clean exit, a failure halfway through
// the start (in the parent's hooks, in the child's plan, at execve), and a
// kill: no mount, process, fd, veth, lease, cgroup, network file, mount point.
// The bridge's host side is a namespace of this test's own (networkHost).
import test from 'ava';
import { closeSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyscallError } from '@nsk/syscall';
import { testRootfs } from '@nsk/testkit';
import { prepare, run, start, type ContainerSpec } from '../src/index.ts';
import { baseline, freePort, leftovers, traces } from './helpers/box.ts';
import { standInHost } from './helpers/stand-in-host.ts';

const host = standInHost(); // first: its fd is open for the whole file
const before = baseline();
const root = testRootfs();
const tmp = mkdtempSync(join(tmpdir(), 'nsk-container-cleanup-'));
const data = mkdtempSync(join(tmp, 'data-'));

test.after.always('nothing is left behind by the whole file', (t) => {
  rmSync(tmp, { recursive: true, force: true });
  t.deepEqual(host.links(), ['lo'], 'no veth, no bridge in the stand-in host');
  host.done();
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

/** Everything a full container makes outside itself. */
const full = (name: string, port: number): ContainerSpec => ({
  rootfs: root, name, command: ['/bin/true'], network: 'bridge', publish: [{ host: port, container: 80 }], memory: 32 << 20, pidsLimit: 16,
  volumes: [{ host: data, container: `/mnt/${name}/deep` }], tty: true, networkHost: host.networkHost,
});

function nothingOf(t: import('ava').ExecutionContext, name: string): void {
  t.deepEqual([...traces(name, host.stateDir), ...traces(name)], []);
  t.false(existsSync(join(root, 'mnt', name)), 'mount points made in the rootfs are removed');
  t.deepEqual(host.strayVeths(), [], 'no veth');
}

test.serial('after a clean exit', async (t) => {
  const s = await run(full('cleanup-clean', await freePort()));
  t.is(s.status, 0);
  t.is(s.cleanupErrors, undefined);
  nothingOf(t, 'cleanup-clean');
  t.deepEqual(leftovers(before).fds, []);
});

test.serial('after a failure in the parent’s hooks (a published port taken between prepare and start)', async (t) => {
  const port = await freePort();
  const p = prepare({ ...full('cleanup-port', port) });
  const thief = await host.occupy(port);
  try {
    const err = await t.throwsAsync(start(p));
    t.regex(err!.message, /EADDRINUSE|in use/);
  } finally {
    await thief.close();
  }
  nothingOf(t, 'cleanup-port');
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

test.serial('after a failure in the child’s plan (a file volume onto a directory: mount ENOTDIR)', async (t) => {
  const file = join(tmp, 'file');
  writeFileSync(file, 'x');
  const err = await t.throwsAsync(start({ ...full('cleanup-plan', await freePort()), volumes: [{ host: file, container: '/etc' }, { host: data, container: '/mnt/cleanup-plan/deep' }] }), { instanceOf: SyscallError });
  t.is((err as SyscallError).syscall, 'mount');
  nothingOf(t, 'cleanup-plan');
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

test.serial('after a failure at execve (no such program)', async (t) => {
  const err = await t.throwsAsync(start({ ...full('cleanup-exec', await freePort()), command: ['/no/such/program'] }), { instanceOf: SyscallError });
  t.is((err as SyscallError).errno, 'ENOENT');
  nothingOf(t, 'cleanup-exec');
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

test.serial('after a kill', async (t) => {
  const c = await start({ ...full('cleanup-kill', await freePort()), command: ['/bin/sh', '-c', 'sleep 30 & sleep 30 & wait'] });
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.true(c.kill('SIGKILL'));
  const s = await c.exited;
  t.is(s.status, 137);
  t.false(c.kill('SIGKILL'), 'nothing left to kill');
  closeSync(c.terminal!);
  nothingOf(t, 'cleanup-kill');
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});
