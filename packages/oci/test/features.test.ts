import test from 'ava';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readSync, readdirSync, readlinkSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hostState, leftSince, testRootfs } from '@nsk/testkit';
import { baseConfig, bundle, rt, stateRoot } from './bundle.ts';
import { ConsoleListener } from './console-listener.ts';

const root = stateRoot();
const before = hostState();
const status = (id: string) => JSON.parse(rt(root, ['state', id]).stdout) as { status: string; pid: number };
const ns = (pid: number | string, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);
const work = mkdtempSync(join(tmpdir(), 'nsk-oci-features-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));
const proc = (over: Record<string, unknown>) => ({ ...(baseConfig(['true']).process as object), ...over });
const linux = (over: Record<string, unknown>) => ({ ...(baseConfig(['true']).linux as object), ...over });

test.serial('hooks get the state on stdin: createRuntime (creating) in the runtime’s namespaces, poststart, poststop', (t) => {
  // createContainer and startContainer: hooks-ns.test.ts.
  const out = join(work, 'hooks');
  const sh = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}.${name}; readlink /proc/self/ns/mnt >> ${out}.${name}.ns`] });
  const b = bundle(baseConfig(['sleep', '30'], { hooks: { createRuntime: [sh('createRuntime')], poststart: [sh('poststart')], poststop: [sh('poststop')] }, annotations: { 'org.example.k': 'v' } }));
  const c = rt(root, ['create', '--bundle', b, 'hooked']);
  t.is(c.code, 0, c.stderr);
  const pid = status('hooked').pid;
  const st = JSON.parse(readFileSync(`${out}.createRuntime`, 'utf8'));
  // runtime.md: the hooks are part of the create operation, so "creating".
  t.like(st, { id: 'hooked', status: 'creating', pid, bundle: b, annotations: { 'org.example.k': 'v' } });
  t.is(readFileSync(`${out}.createRuntime.ns`, 'utf8').trim(), ns('self', 'mnt'), 'createRuntime: the runtime’s namespace');
  t.is(rt(root, ['start', 'hooked']).code, 0);
  t.is(JSON.parse(readFileSync(`${out}.poststart`, 'utf8')).status, 'running');
  t.is(rt(root, ['delete', '-f', 'hooked']).code, 0);
  t.is(JSON.parse(readFileSync(`${out}.poststop`, 'utf8')).status, 'stopped');
});

test.serial('a failing createRuntime hook fails create and leaves nothing', (t) => {
  const b = bundle(baseConfig(['sleep', '30'], { hooks: { createRuntime: [{ path: '/bin/false', args: ['false'] }] } }));
  const r = rt(root, ['create', '--bundle', b, 'hookfail']);
  t.is(r.code, 1);
  t.regex(r.stderr, /hooks\.createRuntime\[0\] \/bin\/false: exit 1/);
  t.false(existsSync(join(root, 'hookfail')));
  t.false(existsSync('/sys/fs/cgroup/pids/nsk-runtime/hookfail'));
});

test.serial('namespaces joined by path: the second container is in the first one’s network and ipc namespaces', (t) => {
  const b1 = bundle(baseConfig(['sleep', '30']));
  t.is(rt(root, ['create', '--bundle', b1, 'first']).code, 0);
  const p1 = status('first').pid;
  const b2 = bundle(baseConfig(['sleep', '30'], { linux: linux({ namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'network', path: `/proc/${p1}/ns/net` }, { type: 'ipc', path: `/proc/${p1}/ns/ipc` }] }) }));
  const c = rt(root, ['create', '--bundle', b2, 'second']);
  t.is(c.code, 0, c.stderr);
  const p2 = status('second').pid;
  t.is(ns(p2, 'net'), ns(p1, 'net'));
  t.is(ns(p2, 'ipc'), ns(p1, 'ipc'));
  t.not(ns(p2, 'pid'), ns(p1, 'pid'));
  t.not(ns(p2, 'net'), ns('self', 'net'));
  t.is(rt(root, ['delete', 'second']).code, 0);
  t.is(rt(root, ['delete', 'first']).code, 0);
});

test.serial('a user namespace with the config’s mappings', (t) => {
  // The mapped root (host uid 200000) must reach the rootfs, as with runc.
  chmodSync(dirname(testRootfs()), 0o711);
  const b = bundle(baseConfig(['sleep', '30'], { linux: linux({
    namespaces: ['pid', 'network', 'ipc', 'uts', 'mount', 'user'].map((type) => ({ type })),
    uidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
  }) }));
  const c = rt(root, ['create', '--bundle', b, 'userns']);
  t.is(c.code, 0, c.stderr);
  const pid = status('userns').pid;
  t.deepEqual(readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/), ['0', '200000', '65536']);
  t.deepEqual(readFileSync(`/proc/${pid}/gid_map`, 'utf8').trim().split(/\s+/), ['0', '200000', '65536']);
  t.regex(readFileSync(`/proc/${pid}/status`, 'utf8'), /Uid:\s+200000\s/);
  t.is(rt(root, ['start', 'userns']).code, 0);
  t.is(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'sleep');
  t.is(rt(root, ['delete', '-f', 'userns']).code, 0);
});

test.serial('process.terminal: the pty master arrives on the console socket; the program runs on its slave', (t) => {
  const sock = join(work, 'console.sock');
  const l = new ConsoleListener(sock);
  try {
    const b = bundle(baseConfig(['sh', '-c', 'tty; stty size; echo done'], { process: proc({ args: ['sh', '-c', 'tty; stty size; echo done; sleep 30'], terminal: true, consoleSize: { height: 33, width: 101 } }) }));
    const c = rt(root, ['create', '--bundle', b, '--console-socket', sock, 'tty']);
    t.is(c.code, 0, c.stderr);
    const { fd, message } = l.receive();
    t.regex(message, /^\/dev\/pts\/\d+$/);
    t.regex(readlinkSync(`/proc/self/fd/${fd}`), /ptmx/);
    t.is(rt(root, ['start', 'tty']).code, 0);
    let text = '';
    const buf = Buffer.alloc(4096);
    for (let i = 0; i < 100 && !text.includes('done'); i++) text += buf.subarray(0, readSync(fd, buf)).toString();
    t.regex(text, /\/dev\/console/);
    t.regex(text, /33 101/);
    closeSync(fd);
    t.is(rt(root, ['delete', '-f', 'tty']).code, 0);
  } finally {
    l.close();
  }
});

test.after.always('nothing left behind', (t) => {
  for (const id of readdirSync(root)) rt(root, ['delete', '-f', id]);
  t.deepEqual(readdirSync(root), []);
  const left = leftSince(before);
  t.deepEqual(left.mounts, []);
  t.deepEqual(left.children, []);
  void writeFileSync;
});
