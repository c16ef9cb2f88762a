// exec(): the same namespaces (its PID 1 is 1), the same cgroup, the same
// capabilities, no_new_privs and seccomp filter; the container's
// environment, working directory and user unless told otherwise.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { NskError, O, close, pipe2 } from '@nsk/syscall';
import { capture, testRootfs } from '@nsk/testkit';
import { exec, start, type Container } from '../src/index.ts';
import { baseline, inodes, leftovers, status, statusLines, traces } from './helpers/box.ts';
import { standInHost } from './helpers/stand-in-host.ts';

const host = standInHost(); // the bridge's host side, a namespace of this test's own
const before = baseline();
const root = testRootfs();
const names: string[] = [];

test.after.always('nothing is left behind', (t) => {
  t.deepEqual(host.links(), ['lo'], 'no veth, no bridge');
  for (const n of names) t.deepEqual([...traces(n, host.stateDir), ...traces(n)], [], n);
  host.done();
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
});

async function box(spec: Parameters<typeof start>[0] & object): Promise<Container> {
  const c = await start({ rootfs: root, command: ['/bin/sleep', '60'], stdio: [null, null, null], ...spec });
  names.push(c.name);
  return c;
}

/** exec with output captured; `during` sees the exec'd process while it waits on its stdin. */
async function execIn(c: Container, command: string[], opts: Parameters<typeof exec>[2] = {}, during?: (pid: number) => unknown) {
  const out = capture();
  const err = capture();
  const [r, w] = pipe2(O.CLOEXEC);
  const p = await exec(c.state(), during ? ['/bin/sh', '-c', `${command.map((a) => `'${a}'`).join(' ')}; read x || true`] : command, { ...opts, stdio: [r, out.fd, err.fd] });
  close(r);
  const texts = Promise.all([out.text(), err.text()]);
  try {
    if (during) await during(p.pid);
  } finally {
    close(w);
  }
  const s = await p.exited;
  const [stdout, stderr] = await texts;
  return { ...s, stdout, stderr, pid: p.pid };
}

test('exec joins every namespace and the cgroup, sees the container’s PID 1 as 1, with the same capabilities and seccomp', async (t) => {
  const c = await box({ network: 'bridge', pidsLimit: 50, networkHost: host.networkHost });
  try {
    let seen: { ns: Record<string, number>; status: Record<string, string>; cgroup: string } | undefined;
    const r = await execIn(c, ['/bin/sh', '-c', 'echo "self=$$"; cat /proc/1/comm; hostname; cat /proc/self/cgroup'], {}, (pid) => {
      seen = { ns: inodes(pid), status: status(pid), cgroup: readFileSync(`/proc/${pid}/cgroup`, 'utf8') };
    });
    t.is(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    t.not(lines[0], 'self=1');
    t.regex(lines[0]!, /^self=\d+$/);
    t.is(lines[1], 'sleep', 'PID 1 is the container’s');
    t.is(lines[2], c.name);
    const pid1 = status(c.pid);
    t.deepEqual(seen!.ns, inodes(c.pid));
    for (const k of ['CapEff', 'CapPrm', 'CapBnd', 'CapInh', 'CapAmb', 'NoNewPrivs', 'Seccomp']) t.is(seen!.status[k], pid1[k], k);
    t.is(seen!.status.Seccomp, '2');
    t.is(seen!.cgroup, readFileSync(`/proc/${c.pid}/cgroup`, 'utf8'), 'the container’s groups');
    t.true(seen!.cgroup.includes(`/nsk-${c.name}`));
    for (const l of lines.slice(3).filter((x) => /:(memory|pids):/.test(x))) t.true(l.endsWith(':/'), `its cgroup namespace: ${l}`);
  } finally {
    c.kill('SIGKILL');
    await c.exited;
  }
});

test('exec takes the container’s env, cwd and user; options override them', async (t) => {
  const c = await box({ network: 'none', env: ['FROM=container'], cwd: '/tmp', user: 'nobody', capAdd: ['NET_RAW'] });
  try {
    const same = await execIn(c, ['/bin/sh', '-c', 'echo "$FROM|$(pwd)|$(id -u):$(id -g)"; grep -E "^CapEff" /proc/self/status']);
    t.is(same.status, 0, same.stderr);
    t.is(same.stdout.split('\n')[0], 'container|/tmp|65534:65534');
    t.is(statusLines(same.stdout).CapEff, '0000000000000000');
    const other = await execIn(c, ['sh', '-c', 'echo "$FROM|$EXTRA|$(pwd)|$(id -u)|$HOME"'], { env: ['EXTRA=1'], cwd: '/', user: 'root' });
    t.is(other.stdout.trim(), 'container|1|/|0|/root');
  } finally {
    c.kill('SIGKILL');
    await c.exited;
  }
});

test('exec refuses a state whose container is gone, and bad options, before creating anything', async (t) => {
  const c = await box({ network: 'none' });
  const state = c.state();
  await t.throwsAsync(exec(state, []), { message: /command/ });
  await t.throwsAsync(exec(state, ['/bin/true'], { cwd: 'tmp' }), { message: /cwd/ });
  await t.throwsAsync(exec(state, ['/bin/true'], { user: 'alice' }), { message: /no user "alice"/ });
  c.kill('SIGKILL');
  await c.exited;
  const err = await t.throwsAsync(exec(state, ['/bin/true']), { instanceOf: NskError });
  t.is(err?.code, 'ERR_NSK_CONTAINER_GONE');
});
