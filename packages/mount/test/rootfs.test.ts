import test from 'ava';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { spawn } from '@nsk/clone';
import { O, ValidationError, close, pipe2 } from '@nsk/syscall';
import { busyboxRootfs } from '@nsk/rootfs';
import { parseMountInfo, readMountInfo, rootfs } from '../src/index.ts';

const base = mkdtempSync(join(tmpdir(), 'nsk-mount-test-'));
const root = busyboxRootfs(join(base, 'root'));
test.after.always(() => rmSync(base, { recursive: true, force: true }));

async function runIn(features: Parameters<typeof spawn>[0]['features'], script: string, keep?: (pid: number) => void): Promise<string> {
  const [r, w] = pipe2(O.CLOEXEC);
  const sock = new Socket({ fd: r, readable: true, writable: false });
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((res) => sock.once('end', res));
  const child = await spawn({ argv: ['/bin/sh', '-c', script], namespaces: ['pid'], features, stdio: [null, w, 2] });
  close(w);
  keep?.(child.pid);
  const s = await child.exited;
  await ended;
  sock.destroy();
  if (s.code !== 0) throw new Error(`exit ${s.status}: ${Buffer.concat(chunks).toString()}`);
  return Buffer.concat(chunks).toString();
}

test.serial('after pivot_root the child’s / is the rootfs, its /proc shows it as pid 1, and the old root is gone', async (t) => {
  const out = await runIn([rootfs({ path: root, readonly: true })], 'cat /.nsk-rootfs; echo $$; ls /proc/1/exe >/dev/null && readlink /proc/1/exe; cat /proc/self/mountinfo');
  const [marker, pid, exe, ...rest] = out.trim().split('\n');
  t.regex(marker!, /^busybox /);
  t.is(pid, '1');
  t.is(exe, '/bin/busybox');
  const mounts = parseMountInfo(rest.join('\n') + '\n');
  // Nothing of the host's tree is reachable: every mount is at / or below the new root's own mounts.
  t.deepEqual(mounts.map((m) => m.mountPoint).sort(), ['/', '/dev', '/dev/full', '/dev/null', '/dev/pts', '/dev/random', '/dev/shm', '/dev/tty', '/dev/urandom', '/dev/zero', '/proc', '/tmp'].sort());
  t.true(mounts.find((m) => m.mountPoint === '/')!.options.includes('ro'));
  t.true(mounts.every((m) => !m.optionalFields.some((f) => f.startsWith('shared:'))), 'no mount propagates back to the host');
});

test.serial('mounts made inside never appear in the host’s mountinfo', async (t) => {
  const before = readMountInfo().length;
  let inside = '';
  await runIn([rootfs({ path: root })], 'mount -t tmpfs nsk-inner /tmp && sleep 0.3', (pid) => {
    setTimeout(() => { try { inside = readFileSync(`/proc/${pid}/mountinfo`, 'utf8'); } catch { /* ended */ } }, 150);
  });
  t.true(inside.includes('nsk-inner'), 'the child saw its own tmpfs');
  t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes('nsk-inner'));
  t.is(readMountInfo().length, before);
  t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(root), 'no bind of the rootfs left on the host');
});

test.serial('/dev holds only the minimal devices, bound from the host, and a private devpts', async (t) => {
  const out = await runIn([rootfs({ path: root })], 'ls /dev; echo x > /dev/null && head -c 4 /dev/zero | wc -c; ls /dev/pts');
  t.deepEqual(out.trim().split('\n'), ['fd', 'full', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero', '4', 'ptmx']);
});

test.serial('a writable root keeps the child’s writes in the rootfs directory', async (t) => {
  await runIn([rootfs({ path: root, readonly: false })], 'echo written > /root/note');
  t.is(readFileSync(join(root, 'root/note'), 'utf8'), 'written\n');
  rmSync(join(root, 'root/note'));
});

test('bad rootfs options are refused before anything starts', (t) => {
  t.throws(() => rootfs({ path: 'relative' }), { instanceOf: ValidationError, message: /absolute/ });
  t.throws(() => rootfs({ path: '/nonexistent/nsk' }), { instanceOf: ValidationError, message: /not a directory/ });
  const empty = join(base, 'empty');
  mkdirSync(empty);
  t.throws(() => rootfs({ path: empty }), { instanceOf: ValidationError, message: /has no \/proc/ });
  t.truthy(readlinkSync('/proc/self/exe'));
});
