// Rootless containers, run by nobody (65534) with no capabilities through
// testkit's runAsUser and test/fixtures/rootless.ts; and `rootless: true`
// asked for by root.
import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runAsUser, testRootfs } from '@nsk/testkit';
import { baseline, held, inodes, leftovers, status } from './helpers/box.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures/rootless.ts');
const before = baseline();
const dirs: string[] = [];
const DEFAULT_CAPS = '00000000a80425fb';

test.after.always('nothing is left behind', (t) => {
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
  t.deepEqual(dirs.filter((d) => existsSync(d)), []);
});

interface Fixture<T> { out: T; left: { mounts: string[]; fds: string[]; children: number[] } }

async function fixture<T>(scenario: string, files?: Record<string, string>): Promise<T> {
  const r = await runAsUser({ script: FIXTURE, args: [scenario], ...(files ? { files } : {}) });
  dirs.push(r.dir);
  if (r.status !== 0) throw new Error(`fixture ${scenario} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  const f = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Fixture<T>;
  if (f.left.mounts.length || f.left.fds.length || f.left.children.length) throw new Error(`the fixture left ${JSON.stringify(f.left)}`);
  return f.out;
}

interface Held<T> { status: number; stdout: string; stderr: string; seen: T }

test('nobody runs a container: root inside a user namespace of its own, Docker’s capabilities there, no_new_privs, seccomp, only lo', async (t) => {
  const r = await fixture<Held<{ outside: Record<string, string>; ns: Record<string, string>; own: Record<string, string>; state: { network?: unknown; cgroup?: string }; cgroup: string; ownCgroup: string }>>('defaults');
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.deepEqual(lines.slice(0, 2), ['0', '0'], 'root inside');
  t.regex(lines[2]!, /^\s*0\s+65534\s+1$/, 'uid 0 is nobody outside');
  t.regex(r.stdout, /CapEff:\s+00000000a80425fb/);
  t.regex(r.stdout, /CapBnd:\s+00000000a80425fb/);
  t.regex(r.stdout, /NoNewPrivs:\s+1/);
  t.regex(r.stdout, /Seccomp:\s+2/);
  t.deepEqual(lines.filter((l) => /^\d+: /.test(l)).map((l) => l.split(':')[1]!.trim()), ['lo'], 'network none');
  t.true(lines.includes('pid=1'));
  t.true(lines.includes('wrote'));
  // From outside: nobody, with the capabilities only in its own user namespace.
  const out = r.seen.outside;
  t.is(out.Uid!.split(/\s+/)[0], '65534');
  t.is(out.CapEff, DEFAULT_CAPS);
  for (const k of ['user', 'mnt', 'pid', 'uts', 'ipc', 'net', 'cgroup']) t.not(r.seen.ns[k], r.seen.own[k], k);
  // No group of its own (no limits, no delegation): the caller's, seen through a cgroup namespace.
  t.is(r.seen.cgroup, r.seen.ownCgroup);
  t.is(r.seen.state.cgroup, undefined);
});

test('rootless refusals come before anything is created: limits without delegation, a bridge, rootful, an unmapped user', async (t) => {
  const r = await fixture<Record<string, { name: string; field: string; message: string } | null>>('refusals');
  t.is(r.memory?.field, 'memory');
  t.regex(r.memory!.message, /delegat/);
  t.is(r.bridge?.field, 'network');
  t.is(r.rootful?.field, 'rootless');
  t.is(r.user?.field, 'user');
  t.regex(r.user!.message, /uid 1000 is not mapped/);
});

test('exec into a rootless container joins its user namespace first, then the others; it runs in the container’s pid namespace (forked there by the container’s sh)', async (t) => {
  const r = await fixture<{ status: number; stdout: string; pid1: Record<string, string> }>('exec');
  t.is(r.status, 0, r.stdout);
  const lines = r.stdout.trim().split('\n');
  const self = Number(/^self=(\d+)$/m.exec(r.stdout)?.[1]);
  t.true(self > 1 && self < 10, `its pid, counted in the container: ${self}`);
  t.is(lines[1], 'sleep');
  t.is(lines[2], '0');
  const child = Number(/^child=(\d+)$/m.exec(r.stdout)?.[1]);
  t.true(child > self && child < 20, `a child's pid, counted in the container: ${child}`);
  t.regex(r.stdout, new RegExp(`CapEff:\\s+${r.pid1.CapEff}`));
  t.regex(r.stdout, /Seccomp:\s+2/);
});

test('with subordinate ids (newuidmap) a non-root user inside is mapped into the caller’s range', async (t) => {
  const r = await fixture<Held<{ outside: Record<string, string> }>>('subordinate', { '/etc/subuid': 'nobody:100000:65536\n', '/etc/subgid': 'nobody:100000:65536\n' });
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.deepEqual(lines.slice(0, 2), ['1000', '1000']);
  t.regex(r.stdout, /^\s*1\s+100000\s+65536$/m);
  t.is(r.seen.outside.Uid!.split(/\s+/)[0], String(100000 + 999));
});

test('root may ask for rootless: a user namespace of its own, and the same defaults', async (t) => {
  const h = await held({ rootfs: testRootfs(), rootless: true }, 'cat /proc/self/uid_map');
  const ns = inodes(h.container.pid);
  const s = status(h.container.pid);
  h.release();
  const r = await h.done;
  t.is(r.status, 0, r.stderr);
  t.not(ns.user, inodes('self').user);
  t.is(s.CapEff, DEFAULT_CAPS);
  t.is(s.NoNewPrivs, '1');
  t.is(h.container.state().network?.address, undefined, 'network none');
});
