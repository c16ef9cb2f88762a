// releaseNetwork(): another process undoes what network() made for a
// container whose own process died before its cleanup — the lease, the
// veth's host end, the /etc files, and after the last lease the bridge.
// Everything lives in a throwaway namespace and a temporary state dir.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostState, leftSince } from '@nsk/testkit';
import { LeaseStore, ownNetnsFd, parseCidr, releaseNetwork, type Handle, type LeaseFile } from '../src/index.ts';
import { TAG, hostLinks, scratchNetns } from './helpers.ts';

ownNetnsFd();
const before = hostState();
const linksBefore = hostLinks();
const base = mkdtempSync(join(tmpdir(), 'nskt-release-'));
let n = 0;

/** A pid that no process has now (a `true` that ran and was reaped). */
const gone = { pid: spawnSync('true').pid!, start: 1 };
const me = { pid: process.pid, start: Number(readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]) };

/**
 * As network() leaves it when its process is SIGKILLed: a bridge nsk made
 * (gateway address, up), a veth per lease with its host end on the bridge,
 * and the lease file, in a namespace of the test's own.
 */
function leftBehind(ids: Array<{ id: string; owner: typeof gone }>) {
  const host = scratchNetns();
  const stateDir = join(base, String(n++));
  const bridge = `${TAG}r${n}`;
  const store = new LeaseStore(stateDir, bridge, parseCidr('10.77.0.0/24'), '10.77.0.1');
  host.h.linkAdd({ kind: 'bridge', name: bridge });
  const index = host.h.linkByName(bridge).index;
  const veths: string[] = [];
  store.update((s) => {
    s.createdBridge = true;
    ids.forEach(({ id, owner }, i) => {
      const veth = `${TAG}v${n}x${i}`;
      host.h.linkAdd({ kind: 'veth', name: veth, masterIndex: index, up: true, peer: { name: `${TAG}p${n}x${i}` } });
      veths.push(veth);
      store.allocate(s, id, veth);
      mkdirSync(join(stateDir, 'containers', id), { recursive: true });
      writeFileSync(join(stateDir, 'containers', id, 'hosts'), '');
    });
    // Owners set last: allocate() reclaims leases of ended processes.
    for (const lease of Object.values(s.leases)) lease.owner = ids.find((x) => x.id === lease.id)!.owner;
  });
  const links = () => (host.h as Handle).linkList().map((l) => l.name).sort();
  const leases = () => JSON.parse(readFileSync(store.file, 'utf8')) as LeaseFile;
  return { host, stateDir, bridge, veths, links, leases };
}

test('the last container’s lease, veth end, /etc files and the bridge nsk made go; a second call finds nothing', (t) => {
  const l = leftBehind([{ id: 'dead1', owner: gone }]);
  try {
    const r = releaseNetwork({ id: 'dead1', stateDir: l.stateDir, bridge: l.bridge, hostNetns: l.host.ns.fd });
    t.deepEqual(r, { addresses: ['10.77.0.2'], veths: [l.veths[0]!], files: true, bridge: true });
    t.deepEqual(l.links(), ['lo']);
    t.deepEqual(l.leases().leases, {});
    t.false(l.leases().createdBridge);
    t.false(existsSync(join(l.stateDir, 'containers', 'dead1')));
    t.deepEqual(releaseNetwork({ id: 'dead1', stateDir: l.stateDir, bridge: l.bridge, hostNetns: l.host.ns.fd }), { addresses: [], veths: [], files: false, bridge: false });
  } finally {
    l.host.done();
  }
});

test('with other leases left, only that container’s go and the bridge stays', (t) => {
  const l = leftBehind([{ id: 'dead2', owner: gone }, { id: 'other', owner: gone }]);
  try {
    const r = releaseNetwork({ id: 'dead2', stateDir: l.stateDir, bridge: l.bridge, hostNetns: l.host.ns.fd });
    t.deepEqual(r.addresses, ['10.77.0.2']);
    t.false(r.bridge);
    t.true(l.links().includes(l.bridge));
    t.false(l.links().includes(l.veths[0]!));
    t.true(l.links().includes(l.veths[1]!));
    t.deepEqual(Object.values(l.leases().leases).map((x) => x.id), ['other']);
    t.true(l.leases().createdBridge);
    t.true(existsSync(join(l.stateDir, 'containers', 'other')));
  } finally {
    l.host.done();
  }
});

test('a lease whose holder still runs is not released, and nothing changes', (t) => {
  const l = leftBehind([{ id: 'held', owner: me }]);
  try {
    const file = readFileSync(join(l.stateDir, l.bridge, 'leases.json'), 'utf8');
    const err = t.throws(() => releaseNetwork({ id: 'held', stateDir: l.stateDir, bridge: l.bridge, hostNetns: l.host.ns.fd }));
    t.is((err as { code?: string }).code, 'ERR_NSK_LEASE_HELD');
    t.regex(err!.message, new RegExp(`pid ${process.pid}, runs`));
    t.is(readFileSync(join(l.stateDir, l.bridge, 'leases.json'), 'utf8'), file);
    t.true(l.links().includes(l.veths[0]!));
    t.true(existsSync(join(l.stateDir, 'containers', 'held')));
  } finally {
    l.host.done();
  }
});

test('no state at all: nothing to do; bad options are refused first', (t) => {
  const stateDir = join(base, 'empty');
  t.deepEqual(releaseNetwork({ id: 'none', stateDir, bridge: `${TAG}e` }), { addresses: [], veths: [], files: false, bridge: false });
  t.false(existsSync(stateDir));
  t.throws(() => releaseNetwork({ id: '../x', stateDir }), { message: /^id: / });
  t.throws(() => releaseNetwork({ id: 'x', stateDir: 'relative' }), { message: /^stateDir: / });
  t.throws(() => releaseNetwork({ id: 'x', stateDir, bridge: 'a/b' }), { message: /^bridge: / });
});

test.after.always('nothing is left behind', (t) => {
  rmSync(base, { recursive: true, force: true });
  t.deepEqual(hostLinks(), linksBefore);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});
