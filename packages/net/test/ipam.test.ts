// The lease store: one address per container, across processes and restarts.
import test from 'ava';
import { execFileSync, spawn as spawnProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostState, leftSince } from '@nsk/testkit';
import { LeaseStore } from '../src/ipam.ts';
import { parseCidr } from '../src/ip.ts';

const before = hostState();
const base = mkdtempSync(join(tmpdir(), 'nskt-ipam-'));
let n = 0;
const store = (subnet = '10.88.0.0/29') => new LeaseStore(join(base, String(n++)), 'nsk0', parseCidr(subnet), subnet.replace(/\d+\/\d+$/, '1'));

test('addresses go round-robin, skipping the network, gateway and broadcast addresses, until the subnet is full', (t) => {
  const s = store();
  const got = s.update((f) => [1, 2, 3, 4, 5].map((i) => s.allocate(f, `c${i}`, `v${i}`)));
  t.deepEqual(got, ['10.88.0.2', '10.88.0.3', '10.88.0.4', '10.88.0.5', '10.88.0.6']);
  t.throws(() => s.update((f) => s.allocate(f, 'c6', 'v6')), { code: 'ERR_NSK_SUBNET_FULL' });
  s.update((f) => { delete f.leases['10.88.0.3']; });
  // released .3 is the only free one: it comes back, but only when nothing else is free
  t.is(s.update((f) => s.allocate(f, 'c7', 'v7')), '10.88.0.3');
});

test('a released address is not handed out again at once', (t) => {
  const s = store('10.88.0.0/24');
  const a = s.update((f) => s.allocate(f, 'a', 'va'));
  s.update((f) => { delete f.leases[a]; });
  const b = s.update((f) => s.allocate(f, 'b', 'vb'));
  t.not(a, b);
});

test('leases survive a restart: a new store on the same directory sees them', (t) => {
  const s = store();
  s.update((f) => s.allocate(f, 'keep', 'vk'));
  const again = new LeaseStore(s.dir.replace(/\/nsk0$/, ''), 'nsk0', s.subnet, s.gateway);
  t.deepEqual(Object.values(again.read().leases).map((l) => l.id), ['keep']);
  t.is(again.update((f) => again.allocate(f, 'next', 'vn')), '10.88.0.3');
});

test('a fixed address that is taken is refused; one outside the subnet too', (t) => {
  const s = store();
  s.update((f) => s.allocate(f, 'one', 'v1', '10.88.0.4'));
  t.throws(() => s.update((f) => s.allocate(f, 'two', 'v2', '10.88.0.4')), { code: 'ERR_NSK_ADDRESS_IN_USE' });
  t.throws(() => s.update((f) => s.allocate(f, 'two', 'v2', '10.88.1.4')), { code: 'ERR_NSK_INVALID' });
});

test('a lease whose holder and container have both ended is reclaimed, with its veth named for removal', (t) => {
  const s = store();
  const dead = Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"'], { encoding: 'utf8' }).trim());
  s.update((f) => { f.leases['10.88.0.2'] = { id: 'ghost', veth: 'vnskdead', owner: { pid: dead, start: 1 }, container: null }; });
  s.update((f) => { f.leases['10.88.0.3'] = { id: 'alive', veth: 'vnskalive', owner: { pid: process.pid, start: 0 }, container: { pid: process.pid, start: Number(execFileSync('sh', ['-c', `cut -d' ' -f22 /proc/${process.pid}/stat`], { encoding: 'utf8' })) } }; });
  const reclaimed: string[] = [];
  s.update((f) => s.allocate(f, 'new', 'vnew', undefined, (_ip, l) => reclaimed.push(l.veth)));
  t.deepEqual(reclaimed, ['vnskdead']);
  t.deepEqual(Object.values(s.read().leases).map((l) => l.id).sort(), ['alive', 'new']);
});

test('eight processes allocating at once never get the same address (flock)', async (t) => {
  const s = store('10.88.0.0/24');
  const script = `
    import { LeaseStore } from ${JSON.stringify(new URL('../src/ipam.ts', import.meta.url).pathname)};
    import { parseCidr } from ${JSON.stringify(new URL('../src/ip.ts', import.meta.url).pathname)};
    const s = new LeaseStore(${JSON.stringify(s.dir.replace(/\/nsk0$/, ''))}, 'nsk0', parseCidr('10.88.0.0/24'), '10.88.0.1');
    const got = [];
    for (let i = 0; i < 10; i++) got.push(s.update((f) => s.allocate(f, 'p' + process.pid + '-' + i, 'v')));
    console.log(JSON.stringify(got));
    process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
  // Each holder stays alive (its leases are live) until we close its stdin.
  const holders = Array.from({ length: 8 }, () => spawnProcess(process.execPath, ['--conditions=nsk-source', '--no-warnings', '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const outs = await Promise.all(holders.map((p) => new Promise<string[]>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.endsWith('\n')) resolve(JSON.parse(out) as string[]);
    });
    p.on('exit', (code) => reject(new Error(`exit ${code}`)));
  })));
  const all = outs.flat();
  t.is(all.length, 80);
  t.is(new Set(all).size, 80);
  t.is(Object.keys(s.read().leases).length, 80);
  await Promise.all(holders.map((p) => new Promise((resolve) => { p.on('exit', resolve); p.stdin!.end(); })));
  // Their holders gone, the next allocation reclaims all 80.
  s.update((f) => s.allocate(f, 'after', 'v'));
  t.is(Object.keys(s.read().leases).length, 1);
});

test.after.always('nothing is left behind', (t) => {
  rmSync(base, { recursive: true, force: true });
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});
