// Plans are data: the steps rootfs() and the plan helpers add, in order,
// checked without running them.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Plan, explainSpawn, type Step } from '@nsk/clone';
import { MS } from '@nsk/syscall';
import { busyboxRootfs } from '@nsk/rootfs';
import { hostState, leftSince } from '@nsk/testkit';
import { MASKED_PATHS, READONLY_PATHS, planBind, planChroot, planPivotRoot, planRootfs, planTmpfs, rootfs } from '../src/index.ts';

const before = hostState();
const base = mkdtempSync(join(tmpdir(), 'nsk-mount-plan-'));
const root = busyboxRootfs(join(base, 'root'));

test.after.always('building plans mounts, starts and opens nothing', (t) => {
  rmSync(base, { recursive: true, force: true });
  const left = leftSince(before);
  t.deepEqual(left.mounts.filter((m) => m.startsWith(base)), []);
  t.deepEqual(left.children, []);
  t.deepEqual(left.fds, []);
});

const str = (s: Step, i: number) => { const a = s.args[i]; return a?.kind === 'str' ? a.value : null; };
const num = (s: Step, i: number) => { const a = s.args[i]; return a?.kind === 'num' ? Number(a.value) : NaN; };

test('the default lists are runc’s', (t) => {
  t.deepEqual([...MASKED_PATHS], ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap']);
  t.deepEqual([...READONLY_PATHS], ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
});

test('rootfs steps come in the order the kernel needs: private first, mounts, pivot_root, then masks', (t) => {
  const plan = new Plan();
  planRootfs(plan, { path: root, volumes: [{ source: base, target: '/srv/vol', readonly: true }] });
  const s = plan.steps;
  const at = (pred: (x: Step) => boolean) => s.findIndex(pred);
  const first = s[0]!;
  t.is(first.syscall, 'mount');
  t.is(num(first, 3), MS.REC | MS.PRIVATE);
  t.is(str(first, 1), '/');
  const pivot = at((x) => x.syscall === 'pivot_root');
  t.true(pivot > 0);
  t.is(s[pivot + 1]!.syscall, 'umount2');
  // Everything that needs the host's tree (devices, /sys, volumes) is before the pivot …
  for (const source of ['/dev/null', base]) t.true(at((x) => x.syscall === 'mount' && str(x, 0) === source) < pivot, source);
  t.true(at((x) => str(x, 2) === 'proc') < pivot, 'proc is mounted while the host’s is visible (mount_too_revealing)');
  // … and every step after it works on the container's own /proc and /sys.
  for (const x of s.slice(pivot + 3)) {
    t.is(x.syscall, 'mount');
    t.regex(str(x, 1)!, /^\/(proc|sys)\//);
  }
  t.is(s.filter((x) => x.label.startsWith('mask ')).length, MASKED_PATHS.length);
  // Every step says what it does.
  t.deepEqual(s.filter((x) => x.label.length < 8 || /undefined|(^|\s)null(\s|$)/.test(x.label)), []);
});

test('a read-only bind is a bind then a remount that repeats the kept flags', (t) => {
  const plan = new Plan();
  planBind(plan, { source: '/a', target: '/b', readonly: true, keep: MS.NOSUID | MS.NODEV });
  t.deepEqual(plan.steps.map((x) => [str(x, 0), str(x, 1), num(x, 3), x.label]), [
    ['/a', '/b', MS.BIND, 'bind /a on /b'],
    [null, '/b', MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV, 'make /b read-only, nosuid, nodev'],
  ]);
});

test('pivotRoot leaves no put_old behind: pivot_root(".", ".") then a detach of "."', (t) => {
  const plan = new Plan();
  planPivotRoot(plan, '/new');
  t.deepEqual(plan.steps.map((x) => [x.syscall, ...x.args.map((a) => (a.kind === 'str' ? a.value : a.kind === 'num' ? a.show ?? a.value : a.kind))]), [
    ['chdir', '/new'], ['pivot_root', '.', '.'], ['umount2', '.', 'MNT_DETACH'], ['chdir', '/'],
  ]);
  const chroot = new Plan();
  planChroot(chroot, '/new');
  t.deepEqual(chroot.steps.map((x) => x.syscall), ['chdir', 'chroot', 'chdir']);
});

test('--explain reads as a list of reasons', (t) => {
  const text = explainSpawn({ argv: ['/bin/sh'], namespaces: ['pid', 'net', 'ipc'], features: [rootfs({ path: root, readonly: true })] });
  for (const line of [
    'make every mount at and below / private: nothing propagates in or out',
    `bind ${root} onto itself (pivot_root needs a mount point)`,
    `mount a new devpts instance on ${root}/dev/pts`,
    `make ${root} read-only`,
    'detach the old root and every mount below it',
    'mask /proc/kcore: bind /dev/null over it',
    'make /proc/sys read-only, nosuid, nodev, noexec',
  ]) t.true(text.includes(`# ${line}`), line);
});

test('tmpfs options become the filesystem’s data', (t) => {
  const plan = new Plan();
  planTmpfs(plan, { target: '/t', size: '64m', mode: 0o700, flags: MS.NOEXEC });
  t.deepEqual([str(plan.steps[0]!, 2), num(plan.steps[0]!, 3), str(plan.steps[0]!, 4)], ['tmpfs', MS.NOEXEC, 'size=64m,mode=0700']);
});
