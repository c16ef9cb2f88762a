// Propagation between the host's mounts and the container's. The host here
// has no shared mounts, so the test makes one: a shared tmpfs holding the
// rootfs, as / is shared on a systemd host. A control shows that a bare
// mount namespace on it does leak, so the other tests can only pass because
// rootfs() cuts the propagation.
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Plan } from '@nsk/clone';
import { busyboxRootfs } from '@nsk/rootfs';
import { hostState, leftSince, run } from '@nsk/testkit';
import { mountOf, propagation, readMountInfo, rootfs, tmpfs, unmount, type PropagationType } from '../src/index.ts';

const before = hostState();
const base = mkdtempSync(join(tmpdir(), 'nsk-mount-prop-'));
const shared = join(base, 'shared');
mkdirSync(shared);
tmpfs({ target: shared, size: '64m' });
propagation({ target: shared, type: 'shared', recursive: false });
const root = busyboxRootfs(join(shared, 'root'));
const late = join(root, 'var/www');

test.after.always('nothing is left behind', (t) => {
  // MNT_DETACH takes along whatever a failing run left below it.
  unmount(shared, { detach: true });
  rmSync(base, { recursive: true, force: true });
  const left = leftSince(before);
  // Only mounts under this file's directory count: the other test files,
  // running alongside in other processes, mount under theirs.
  t.deepEqual(left.mounts.filter((m) => m.startsWith(base)), []);
  t.deepEqual(left.children, []);
  t.deepEqual(left.fds, []);
});

const hostSees = (name: string) => readMountInfo().some((m) => m.source === name);

test.serial('control: a mount namespace left shared leaks the child’s mounts to the host', async (t) => {
  t.true(mountOf(shared).optionalFields.some((f) => f.startsWith('shared:')));
  const plan = new Plan();
  plan.mount('nsk-leak', join(root, 'home'), 'tmpfs', 0, null);
  const r = await run({ argv: ['/bin/true'], namespaces: ['mount'], plan });
  t.is(r.code, 0, r.stderr);
  const leaked = hostSees('nsk-leak');
  if (leaked) unmount(join(root, 'home'));
  t.true(leaked, 'the child’s tmpfs appeared on the host');
});

/**
 * Starts a container that mounts a tmpfs of its own, then (while it waits)
 * mounts one on the host below the rootfs; reports who saw what.
 */
async function exchange(type: PropagationType | undefined) {
  const ready = join(root, 'tmp/ready');
  const go = join(root, 'tmp/go');
  let hostSawInner = false;
  let mountedLate = false;
  const script = 'mount -t tmpfs nsk-inner /home; touch /tmp/ready; while [ ! -e /tmp/go ]; do sleep 0.02; done; grep -c nsk-late /proc/self/mountinfo; awk \'$5 == "/" { print $7 }\' /proc/self/mountinfo';
  try {
    const r = await run({ argv: ['/bin/sh', '-c', script], namespaces: ['pid'], features: [rootfs({ path: root, ...(type ? { propagation: type } : {}) })] }, async () => {
      for (let i = 0; i < 500 && !existsSync(ready); i++) await new Promise((res) => setTimeout(res, 10));
      hostSawInner = hostSees('nsk-inner');
      tmpfs({ target: late, source: 'nsk-late' });
      mountedLate = true;
      writeFileSync(go, '');
    });
    const [seen, rootPeer] = r.stdout.trim().split('\n');
    return { code: r.code, stderr: r.stderr, hostSawInner: hostSawInner || hostSees('nsk-inner'), containerSawLate: seen === '1', rootPeer };
  } finally {
    if (mountedLate) unmount(late);
    rmSync(ready, { force: true });
    rmSync(go, { force: true });
  }
}

test.serial('private (the default): the container’s mounts never reach the host, and the host’s later mounts never reach the container', async (t) => {
  const x = await exchange(undefined);
  t.is(x.code, 0, x.stderr);
  t.false(x.hostSawInner);
  t.false(x.containerSawLate);
});

test.serial('slave: the host’s later mounts reach the container, the container’s never reach the host', async (t) => {
  const x = await exchange('slave');
  t.is(x.code, 0, x.stderr);
  t.false(x.hostSawInner);
  t.true(x.containerSawLate);
  t.regex(x.rootPeer ?? '', /^master:\d+$/);
});

test.serial('shared: the container’s / forms a peer group of its own, not joined to the host’s', async (t) => {
  const x = await exchange('shared');
  t.is(x.code, 0, x.stderr);
  t.false(x.hostSawInner);
  t.false(x.containerSawLate);
  const group = /^shared:(\d+)$/.exec(x.rootPeer ?? '');
  t.truthy(group, x.rootPeer);
  const hostGroups = readMountInfo().flatMap((m) => m.optionalFields);
  t.false(hostGroups.includes(`shared:${group?.[1]}`));
});

test.serial('unbindable: the container’s / cannot be bound', async (t) => {
  const r = await run({ argv: ['/bin/sh', '-c', 'awk \'$5 == "/" { print $7 }\' /proc/self/mountinfo; mount --bind / /home'], namespaces: ['pid'], features: [rootfs({ path: root, propagation: 'unbindable' })] });
  t.is(r.stdout, 'unbindable\n');
  t.regex(r.stderr, /Invalid argument/);
});
