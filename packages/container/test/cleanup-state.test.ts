// cleanupState(): after the process that started a container is SIGKILLed
// (so the container's own cleanup never runs), its saved state alone is
// enough for another process to remove everything: the container's
// processes, its cgroups, its bridge lease, veth and /etc files, the
// bridge, and an image container's directory. The bridge's host side is a
// namespace of this test's own (stand-in-host.ts).
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '@nsk/syscall';
import { testRootfs } from '@nsk/testkit';
import { cleanupState, pendingState, prepare, type ContainerState } from '../src/index.ts';
import { namespaceInodes } from '../src/state.ts';
import { baseline, cgroupDirs, freePort, leftovers, traces } from './helpers/box.ts';
import { standInHost } from './helpers/stand-in-host.ts';

const host = standInHost(); // first: its fd is open for the whole file
const before = baseline();
const tmp = mkdtempSync(join(tmpdir(), 'nsk-container-cleanup-state-'));
const FIXTURE = fileURLToPath(new URL('./fixtures/start-then-hang.ts', import.meta.url));

test.after.always('nothing is left behind by the whole file', (t) => {
  t.deepEqual(host.links(), ['lo'], 'no veth, no bridge in the stand-in host');
  host.done();
  rmSync(tmp, { recursive: true, force: true });
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

/** The stand-in namespace's inode: `net:[N]`. */
const standInInode = () => Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/self/fd/${host.ns.fd}`))![1]);

const runs = (s: ContainerState) => {
  const now = namespaceInodes(s.pid);
  return Object.entries(s.namespaces).every(([k, ino]) => now[k] === ino);
};

/** Starts the fixture's container from a child Node process; resolves with its state and the child. */
async function startInChild(name: string): Promise<{ state: ContainerState; child: ReturnType<typeof spawn> }> {
  const arg = JSON.stringify({ name, stateDir: host.stateDir, store: join(tmp, 'store'), port: await freePort() });
  // fd 3 of the child: the stand-in host's network namespace.
  const child = spawn(process.execPath, [...process.execArgv, FIXTURE, arg], { stdio: ['ignore', 'pipe', 'pipe', host.ns.fd] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => { err += String(d); });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += String(d);
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`the fixture exited ${code}: ${err}`)));
  });
  return { state: JSON.parse(line) as ContainerState, child };
}

test.serial('after the starting process is SIGKILLed, cleanupState() from the saved state leaves nothing; again, it finds nothing', async (t) => {
  const name = 'cleanup-orphan';
  const { state, child } = await startInChild(name);
  t.like(state, { name, cgroup: `/nsk-${name}`, imageDir: join(tmp, 'store', 'containers', name), network: { stateDir: host.stateDir, bridge: 'nsk0' } });
  t.is(state.network!.hostNetns, standInInode());
  child.kill('SIGKILL');
  await once(child, 'close');

  // Nobody cleaned up: all of it is still there.
  t.true(runs(state), 'the container outlives the process that started it');
  t.true(cgroupDirs(name).some((d) => existsSync(d)));
  t.deepEqual(traces(name, host.stateDir).filter((x) => !x.startsWith('/sys/')).length, 2, 'its lease and /etc files');
  t.true(host.links().includes('nsk0'));
  t.true(host.links().some((l) => l.startsWith('vnsk')));
  t.true(existsSync(join(state.imageDir!, 'upper', 'written')));

  // The bridge is in the stand-in namespace, not this process's: refused, nothing done.
  const refused = await t.throwsAsync(cleanupState(state), { instanceOf: ValidationError });
  t.is(refused!.field, 'netns');
  t.true(runs(state));

  const report = await cleanupState(state, { netns: host.ns.fd });
  t.is(report.killed, state.pid);
  t.deepEqual(report.cgroups.sort(), cgroupDirs(name).filter((d) => report.cgroups.includes(d)).sort());
  t.true(report.cgroups.length > 0);
  t.deepEqual(report.network, { addresses: [state.network!.address!], veths: report.network!.veths, files: true, bridge: true });
  t.is(report.imageDir, state.imageDir!);

  t.false(runs(state));
  t.deepEqual(cgroupDirs(name).filter((d) => existsSync(d)), []);
  t.deepEqual([...traces(name, host.stateDir), ...traces(name)], []);
  const leases = JSON.parse(readFileSync(join(host.stateDir, 'nsk0', 'leases.json'), 'utf8')) as { leases: object; createdBridge: boolean };
  t.deepEqual(leases.leases, {});
  t.false(leases.createdBridge);
  t.deepEqual(host.links(), ['lo']);
  t.false(existsSync(state.imageDir!));

  t.deepEqual(await cleanupState(state, { netns: host.ns.fd }), {
    killed: null, cgroups: [], network: { addresses: [], veths: [], files: false, bridge: false }, imageDir: null,
  });
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

test.serial('pendingState(): what is known before start is enough to clean what a start got to make', async (t) => {
  const name = 'cleanup-pending';
  const p = prepare({ rootfs: testRootfs(), name, network: 'bridge', networkHost: host.networkHost, pidsLimit: 8, command: ['/bin/true'] });
  const pending = pendingState(p);
  t.deepEqual(pending, {
    name, cgroup: `/nsk-${name}`,
    network: { ports: [], stateDir: host.stateDir, bridge: 'nsk0', hostNetns: standInInode() },
  });
  // As a starter SIGKILLed after making the group and moving a process in.
  const group = cgroupDirs(name).at(-1)!; // the cgroup2 hierarchy where there is one
  mkdirSync(group);
  const orphan = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
  writeFileSync(join(group, 'cgroup.procs'), String(orphan.pid));
  const files = join(host.stateDir, 'containers', name);
  mkdirSync(files, { recursive: true });
  const exited = once(orphan, 'exit');
  const report = await cleanupState(pending, { netns: host.ns.fd });
  await exited;
  t.is(orphan.signalCode, 'SIGKILL');
  t.deepEqual(report.cgroups, [group]);
  t.false(existsSync(group));
  t.false(existsSync(files));
});

test('bad state or options are refused before anything is done', async (t) => {
  const field = async (s: unknown, o?: unknown) => (await t.throwsAsync(cleanupState(s as ContainerState, o as object), { instanceOf: ValidationError }))!.field;
  t.is(await field({ name: '../x' }), 'state.name');
  t.is(await field({ name: 'x', cgroup: '/' }), 'state.cgroup');
  t.is(await field({ name: 'x', cgroup: '/a/../b' }), 'state.cgroup');
  t.is(await field({ name: 'x', imageDir: '/var/lib/nsk' }), 'state.imageDir');
  t.is(await field({ name: 'x', network: { ports: [], stateDir: 'rel' } }), 'state.network.stateDir');
  t.is(await field({ name: 'x' }, { netns: 0 }), 'netns');
  t.is(await field({ name: 'x' }, { bogus: 1 }), 'bogus');
});
