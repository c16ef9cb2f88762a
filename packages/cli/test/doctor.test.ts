// nsk doctor and nsk ns: what they print is what the kernel publishes.
import test from 'ava';
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { detectLayout } from '@nsk/cgroup';
import { findBusybox } from '@nsk/rootfs';
import { hostState, leftSince } from '@nsk/testkit';
import type { Check } from '../src/doctor-checks.ts';
import { removeLeftovers, nskIn, stateDir } from './helpers.ts';

const nsk = nskIn(stateDir());
const before = hostState();
const inode = (p: string) => Number(/\[(\d+)\]/.exec(readlinkSync(p))![1]);

test('doctor --json: each check agrees with /proc and /sys', (t) => {
  const r = nsk('doctor', '--json');
  t.is(r.status, 0);
  const checks = JSON.parse(r.stdout) as Check[];
  const byId = new Map(checks.map((c) => [c.id, c]));
  for (const ns of ['mnt', 'uts', 'ipc', 'pid', 'net', 'user', 'cgroup', 'time']) {
    t.is(byId.get(`ns.${ns}`)?.ok, existsSync(`/proc/self/ns/${ns}`), ns);
  }
  const actions = readFileSync('/proc/sys/kernel/seccomp/actions_avail', 'utf8');
  t.is(byId.get('seccomp')?.ok, actions.includes('errno'));
  t.is(byId.get('seccomp')?.found, `actions: ${actions.trim()}`);
  t.is(byId.get('overlay')?.ok, /\toverlay\n/.test(readFileSync('/proc/filesystems', 'utf8')));
  t.is(byId.get('cgroup.layout')?.name, `layout: ${detectLayout().kind}`);
  t.is(byId.get('busybox')?.ok, findBusybox() !== null);
  const max = readFileSync('/proc/sys/user/max_user_namespaces', 'utf8').trim();
  t.is(byId.get('userns.max')?.found, max);
  t.is(byId.get('userns.max')?.ok, Number(max) > 0);
  for (const tool of ['newuidmap', 'newgidmap']) {
    const st = existsSync(`/usr/bin/${tool}`) ? statSync(`/usr/bin/${tool}`) : null;
    t.is(byId.get(tool)?.ok, !!st && (st.mode & 0o4000) !== 0, tool);
  }
  // Every missing feature says how to get it; present ones say nothing of the kind.
  for (const c of checks) {
    t.is(typeof c.enables, 'string');
    t.is(c.fix === undefined, c.ok, c.id);
  }
});

test('doctor: ✔/✘ per feature, grouped, with what it enables and how to fix it', (t) => {
  const r = nsk('doctor');
  t.is(r.status, 0);
  const checks = JSON.parse(nsk('doctor', '--json').stdout) as Check[];
  t.regex(r.stdout, /^Namespaces\n  ✔ mnt namespace: \/proc\/self\/ns\/mnt\n {6}enables a container’s own mounts/);
  t.regex(r.stdout, /\nControl groups\n  ✔ layout: (v1|v2|hybrid): /);
  t.regex(r.stdout, /\n  [✔✘] seccomp filters: actions: /);
  const missing = checks.filter((c) => !c.ok);
  t.is((r.stdout.match(/^ {2}✘ /gm) ?? []).length, missing.length);
  t.is((r.stdout.match(/^ {2}✔ /gm) ?? []).length, checks.length - missing.length);
  t.is((r.stdout.match(/^ {6}fix: /gm) ?? []).length, missing.length);
  t.true(r.stdout.endsWith(missing.length ? `${missing.length} of ${checks.length} missing.\n` : `All ${checks.length} present.\n`));
});

test('ns lists namespaces as lsns does, the container’s own among them', (t) => {
  const table = nsk('ns', '-t', 'net');
  t.is(table.status, 0);
  const [header, ...rows] = table.stdout.trim().split('\n');
  t.regex(header!, /^NS +TYPE +NPROCS +PID +USER +COMMAND$/);
  t.true(rows.every((r) => / net /.test(r)));
  t.true(rows.some((r) => r.startsWith(`${inode('/proc/self/ns/net')} `)));

  t.is(nsk('run', '-d', '--net', 'none', '--name', 'ns-seen', '--', 'sleep', '30').status, 0);
  const rec = JSON.parse(readFileSync(`${nsk.state}/containers/ns-seen/state.json`, 'utf8')) as { pid: number };
  const entries = JSON.parse(nsk('ns', '--json').stdout) as { type: string; inode: number; pids: number[]; pid: number }[];
  for (const kind of ['net', 'pid', 'uts', 'ipc', 'mnt', 'cgroup'] as const) {
    const file = kind;
    const e = entries.find((x) => x.inode === inode(`/proc/${rec.pid}/ns/${file}`));
    t.truthy(e, kind);
    t.true(e!.pids.includes(rec.pid), kind);
    t.not(e!.inode, inode(`/proc/self/ns/${file}`), kind);
  }
  t.is(nsk('rm', '-f', 'ns-seen').status, 0);
});

test.after.always('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
  t.deepEqual(removeLeftovers(nsk), []);
});
