// memory, cpus and pidsLimit become the cgroup's files; the pids limit
// holds; the group is removed when the container ends.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { detectLayout } from '@nsk/cgroup';
import { testRootfs } from '@nsk/testkit';
import { ALLOWED_DEVICES } from '../src/devices.ts';
import { baseline, cgroupDirs, held, leftovers, shIn, traces } from './helpers/box.ts';

const before = baseline();
const root = testRootfs();
const names: string[] = [];
const layout = detectLayout();

test.after.always('nothing is left behind: the groups are removed', (t) => {
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
  for (const n of names) t.deepEqual(traces(n), [], n);
});

/** The file holding a limit: v2 when the cgroup2 root offers the controller, else its v1 hierarchy. */
function limitFile(name: string, controller: string, v1: string, v2: string): string {
  if (layout.v2?.controllers.includes(controller)) return `${layout.v2.mountPoint}/nsk-${name}/${v2}`;
  const h = layout.v1.find((x) => x.controllers.includes(controller))!;
  return `${h.mountPoint}/nsk-${name}/${v1}`;
}

test('memory, cpus and pidsLimit are written to the container’s own group before it runs', async (t) => {
  const h = await held({ rootfs: root, network: 'none', memory: 64 * 1024 * 1024, cpus: 0.5, pidsLimit: 32 }, 'cat /proc/self/cgroup');
  const name = h.container.name;
  names.push(name);
  let files: Record<string, string>;
  let procs: string;
  try {
    const read = (f: string) => readFileSync(f, 'utf8').trim();
    files = {
      memory: read(limitFile(name, 'memory', 'memory.limit_in_bytes', 'memory.max')),
      cpu: layout.v2?.controllers.includes('cpu') ? read(limitFile(name, 'cpu', '', 'cpu.max')) : `${read(limitFile(name, 'cpu', 'cpu.cfs_quota_us', ''))} ${read(limitFile(name, 'cpu', 'cpu.cfs_period_us', ''))}`,
      pids: read(limitFile(name, 'pids', 'pids.max', 'pids.max')),
    };
    procs = read(limitFile(name, 'pids', 'cgroup.procs', 'cgroup.procs'));
  } finally {
    h.release();
  }
  const r = await h.done;
  t.deepEqual(files, { memory: String(64 * 1024 * 1024), cpu: '50000 100000', pids: '32' });
  t.true(procs.split('\n').includes(String(h.container.pid)), procs);
  // Inside, its cgroup namespace is rooted at that group.
  for (const l of r.stdout.trim().split('\n').filter((x) => /:(memory|pids):/.test(x))) t.true(l.endsWith(':/'), l);
  for (const d of cgroupDirs(name)) t.false(existsSync(d), d);
});

test('the pids limit holds: forks past it fail inside, the host is untouched', async (t) => {
  const r = await shIn({ rootfs: root, network: 'none', pidsLimit: 8 }, 'sh -c "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 5 & done"; echo "inner=$?"; c=0; for p in /proc/[0-9]*; do c=$((c+1)); done; echo "started=$c"; kill -9 -1; true');
  names.push(r.name);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /can't fork|Resource temporarily unavailable/, 'forks past the limit fail');
  t.regex(r.stdout, /inner=2/);
  const started = Number(/started=(\d+)/.exec(r.stdout)?.[1]);
  t.true(started <= 8, `processes inside: ${started}`);
  t.true(started >= 2);
});

test('the device allow-list (v1 devices): a node the container makes cannot be opened unless runc’s list has it', async (t) => {
  const devices = layout.v1.find((h) => h.controllers.includes('devices'));
  t.truthy(devices, 'this host has a v1 devices hierarchy');
  let list = '';
  // seccomp unconfined: only the allow-list stands between mknod and the device.
  const h = await held({ rootfs: root, network: 'none', seccomp: 'unconfined' },
    'mknod /tmp/kmsg c 1 11 && echo made; head -c1 /tmp/kmsg 2>&1; echo x > /dev/null && echo null-ok');
  names.push(h.container.name);
  try {
    list = readFileSync(`${devices!.mountPoint}/nsk-${h.container.name}/devices.list`, 'utf8');
  } finally {
    h.release();
  }
  const r = await h.done;
  t.regex(r.stdout, /made\nhead: \/tmp\/kmsg: Operation not permitted\nnull-ok/);
  t.deepEqual(list.trim().split('\n').sort(), [...ALLOWED_DEVICES].sort());
});
