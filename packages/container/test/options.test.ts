// Each option of the spec, observed from inside and outside.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { O, close, pipe2, write } from '@nsk/syscall';
import { testRootfs } from '@nsk/testkit';
import { run, start } from '../src/index.ts';
import { baseline, bits, held, leftovers, runBox, shIn, status, statusLines, traces } from './helpers/box.ts';

const before = baseline();
const root = testRootfs();
const tmp = mkdtempSync(join(tmpdir(), 'nsk-container-options-'));
const names: string[] = [];
const none = { rootfs: root, network: 'none' as const };

test.after.always('nothing is left behind', (t) => {
  rmSync(tmp, { recursive: true, force: true });
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
  for (const n of names) t.deepEqual(traces(n), [], n);
  t.false(existsSync(join(root, 'data')), 'the volume’s mount point made in the rootfs is removed');
});

test('env is merged over the defaults, cwd is the working directory, hostname names the UTS namespace', async (t) => {
  const r = await shIn({ ...none, env: ['FOO=bar baz', 'PATH=/bin'], cwd: '/tmp', hostname: 'web' }, 'echo "$FOO|$PATH|$HOME"; pwd; hostname');
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), ['bar baz|/bin|/root', '/tmp', 'web']);
});

test('user: a name from the rootfs’s /etc/passwd, or uid:gid; a non-root user has no capabilities but the bounding set', async (t) => {
  const byName = await shIn({ ...none, user: 'nobody' }, 'id -u; id -g; echo $HOME; grep -E "^Cap(Eff|Prm|Bnd|Amb)" /proc/self/status');
  t.is(byName.status, 0, byName.stderr);
  const [uid, gid, home] = byName.stdout.trim().split('\n');
  t.deepEqual([uid, gid, home], ['65534', '65534', '/nonexistent']);
  const caps = statusLines(byName.stdout);
  t.is(caps.CapEff, '0000000000000000');
  t.is(caps.CapPrm, '0000000000000000');
  t.is(caps.CapBnd, '00000000a80425fb');
  const numeric = await shIn({ ...none, user: '1234:5678' }, 'id -u; id -g; touch /x 2>&1 || true');
  t.regex(numeric.stdout, /^1234\n5678\n.*Permission denied/);
  // Seen from the host too.
  const h = await held({ ...none, user: '4321:4321' });
  names.push(h.container.name);
  const s = status(h.container.pid);
  h.release();
  await h.done;
  t.is(s.Uid!.split(/\s+/)[0], '4321');
  t.is(s.Gid!.split(/\s+/)[0], '4321');
  t.is(s.Groups, '');
});

test('capAdd for a non-root user is raised as ambient: it keeps that capability (and only that) across execve', async (t) => {
  const r = await shIn({ ...none, user: 'nobody', capAdd: ['NET_BIND_SERVICE'] }, 'grep -E "^Cap(Eff|Amb|Inh)" /proc/self/status; nc -l -p 80 & sleep 0.2; netstat -tln; kill $!');
  t.is(r.status, 0, r.stderr);
  const caps = statusLines(r.stdout);
  t.deepEqual(bits(caps.CapEff!), [10]);
  t.deepEqual(bits(caps.CapAmb!), [10]);
  t.regex(r.stdout, /:80\s/, 'nobody bound port 80');
});

test('capAdd and capDrop change the bounding and effective sets, and what the kernel allows', async (t) => {
  const r = await shIn({ ...none, capAdd: ['NET_ADMIN', 'SYS_TIME'], capDrop: ['CHOWN'] }, 'grep -E "^Cap(Eff|Bnd)" /proc/self/status; touch /tmp/f; chown 1:1 /tmp/f 2>&1; ip addr add 192.0.2.1/32 dev lo && echo net-admin-ok');
  const caps = statusLines(r.stdout);
  t.is(caps.CapEff, caps.CapBnd);
  const set = bits(caps.CapEff!);
  t.true(set.includes(12) && set.includes(25), 'NET_ADMIN and SYS_TIME');
  t.false(set.includes(0), 'no CHOWN');
  t.regex(r.stdout, /chown: \/tmp\/f: Operation not permitted/);
  t.regex(r.stdout, /net-admin-ok/, 'NET_ADMIN: an address in its own network namespace');
  const all = await shIn({ ...none, capDrop: ['ALL'] }, 'grep -E "^Cap(Eff|Bnd)" /proc/self/status');
  t.deepEqual(statusLines(all.stdout), { CapEff: '0000000000000000', CapBnd: '0000000000000000' });
});

test('seccomp: the default profile refuses what it must, "unconfined" installs none (no_new_privs stays), a profile file is used as given', async (t) => {
  // A user namespace needs no capability: only the filter stands in the way.
  const dflt = await shIn({ ...none, seccomp: 'default' }, 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; unshare -U true 2>&1 || echo refused');
  t.is(statusLines(dflt.stdout).Seccomp, '2');
  t.regex(dflt.stdout, /Operation not permitted\nrefused/);
  const open = await shIn({ ...none, seccomp: 'unconfined' }, 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; unshare -U true && echo allowed');
  t.deepEqual(statusLines(open.stdout), { Seccomp: '0', NoNewPrivs: '1' });
  t.regex(open.stdout, /allowed/);
  const profile = join(tmp, 'no-mkdir.json');
  writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
  const file = await shIn({ ...none, seccomp: profile }, 'mkdir /tmp/d 2>&1; touch /tmp/f && echo touched');
  t.regex(file.stdout, /mkdir: can't create directory '\/tmp\/d': Permission denied/);
  t.regex(file.stdout, /touched/);
});

test('volumes: read-write writes reach the host, read-only refuses writes; the rootfs stays as it was', async (t) => {
  const rwDir = mkdtempSync(join(tmp, 'rw-'));
  const roDir = mkdtempSync(join(tmp, 'ro-'));
  writeFileSync(join(roDir, 'in'), 'from the host\n');
  const r = await shIn({ ...none, volumes: [{ host: rwDir, container: '/data' }, { host: roDir, container: '/srv/ro', readonly: true }] },
    'echo written > /data/out; cat /srv/ro/in; echo x > /srv/ro/in 2>&1 || echo refused');
  t.is(r.status, 0, r.stderr);
  t.is(readFileSync(join(rwDir, 'out'), 'utf8'), 'written\n');
  t.regex(r.stdout, /from the host/);
  t.regex(r.stdout + r.stderr, /Read-only file system/);
  t.is(readFileSync(join(roDir, 'in'), 'utf8'), 'from the host\n');
});

test('readonlyRootfs: / refuses writes, /tmp is a writable tmpfs', async (t) => {
  const r = await shIn({ ...none, readonlyRootfs: true }, 'touch /x 2>&1; touch /tmp/y && echo tmp-ok; cat /proc/self/mountinfo');
  t.regex(r.stdout, /touch: \/x: Read-only file system/);
  t.regex(r.stdout, /tmp-ok/);
  t.regex(r.stdout, /^\S+ \S+ \S+ \S+ \/ ro[, ]/m);
  t.false(existsSync(join(root, 'x')));
});

test('stdio: the fds given become the container’s 0, 1, 2', async (t) => {
  const [r, w] = pipe2(O.CLOEXEC);
  write(w, new TextEncoder().encode('through stdin\n'));
  close(w);
  const got = await runBox({ ...none, command: ['/bin/cat'], stdio: [r, null, null] });
  close(r);
  t.is(got.stdout, 'through stdin\n');
  const quiet = await run({ ...none, command: ['/bin/sh', '-c', 'ls -l /proc/self/fd/ >/dev/null; echo x >&1 || exit 9'], stdio: [null, null, null] });
  t.is(quiet.status, 9, 'no stdout: the write fails');
});

test('the exit code is the command’s; a missing program fails start() with the step that failed', async (t) => {
  t.is((await run({ ...none, command: ['/bin/sh', '-c', 'exit 42'] })).status, 42);
  const err = await t.throwsAsync(start({ ...none, command: ['no-such-program'] }));
  t.regex(err!.message, /execute \/bin\/no-such-program: execve\(.*ENOENT/);
});

test('PID 1 ignores signals it has no handler for (pid_namespaces(7)); SIGKILL from outside ends it with 128+9', async (t) => {
  const r = await runBox({ ...none, command: ['/bin/sleep', '30'] }, async (c) => {
    names.push(c.name);
    t.true(c.kill('SIGTERM'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.is(status(c.pid).State!.charAt(0), 'S', 'still sleeping after SIGTERM');
    c.kill('SIGKILL');
  });
  t.deepEqual([r.code, r.signal, r.status], [null, 'SIGKILL', 137]);
  const trapped = await runBox({ ...none, command: ['/bin/sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.05; done'] }, async (c) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    c.kill('SIGTERM');
  });
  t.is(trapped.status, 7, 'a handler makes SIGTERM count');
});
