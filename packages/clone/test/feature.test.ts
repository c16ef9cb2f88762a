import test from 'ava';
import { readFileSync } from 'node:fs';
import { spawn as spawnProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CLONE, syscall, waitNoHang, type WaitStatus } from '@nsk/syscall';
import { spawn, type Feature } from '../src/index.ts';
import { capture, childrenOfThisProcess, openFds, rootMap } from './helpers.ts';

test.serial('a feature’s parent hook runs while the child waits, and its cleanup runs when the child ends', async (t) => {
  const log: string[] = [];
  const watcher: Feature = {
    name: 'watcher',
    cloneFlags: CLONE.NEWUTS,
    plan(plan) {
      plan.sethostname('featured');
    },
    parent({ pid }) {
      // The child is blocked on its first step: still not exec'd.
      log.push(`parent sees ${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}`);
    },
    cleanup({ pid }) {
      log.push(`cleanup ${pid > 0}`);
    },
  };
  const out = capture();
  const child = await spawn({ argv: ['/bin/hostname'], namespaces: ['user'], features: [rootMap(), watcher], stdio: [0, out.fd, 2] });
  await child.exited;
  t.is((await out.text()).trim(), 'featured');
  t.deepEqual(log, [`parent sees ${readFileSync('/proc/self/comm', 'utf8').trim()}`, 'cleanup true']);
});

test.serial('a parent hook that throws kills the child, runs every cleanup and rejects with its error', async (t) => {
  const before = openFds();
  const cleaned: string[] = [];
  const ok: Feature = { name: 'ok', parent() {}, cleanup() { cleaned.push('ok'); } };
  const broken: Feature = { name: 'broken', parent() { throw new Error('veth went missing'); }, cleanup() { cleaned.push('broken'); } };
  await t.throwsAsync(spawn({ argv: ['/bin/true'], namespaces: ['pid'], features: [ok, broken] }), { message: 'veth went missing' });
  t.deepEqual(cleaned, ['broken', 'ok']);
  t.deepEqual(childrenOfThisProcess(), []);
  t.deepEqual(openFds(), before);
});

test.serial('a failing step also runs the cleanups', async (t) => {
  const cleaned: string[] = [];
  const f: Feature = { name: 'f', parent() {}, cleanup() { cleaned.push('f'); } };
  await t.throwsAsync(spawn({ argv: ['/nonexistent'], features: [f] }), { message: /execve/ });
  t.deepEqual(cleaned, ['f']);
});

test.serial('a child whose parent dies before releasing it ends at once instead of waiting forever', async (t) => {
  // Become a subreaper so the orphaned child is reparented to us and we can
  // read how it ended (prctl(2) PR_SET_CHILD_SUBREAPER).
  syscall('prctl', 36, 1);
  const script = fileURLToPath(new URL('fixtures/parent-dies.ts', import.meta.url));
  const parent = spawnProcess(process.execPath, ['--conditions=nsk-source', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
  const orphan = Number(line.toString().trim());
  t.true(orphan > 0);
  parent.kill('SIGKILL');
  await once(parent, 'exit');
  let ended: WaitStatus | null = null;
  for (let i = 0; i < 100 && !ended; i++) {
    await new Promise((r) => setTimeout(r, 20));
    ended = waitNoHang(orphan);
  }
  // The sync read saw end-of-file; the plan reported EPIPE and exited 127.
  t.deepEqual(ended, { pid: orphan, code: 127, signal: null });
});

test.serial('aroundClone runs just around clone(2); an undo that throws still runs the others, and no child is left', async (t) => {
  const calls: string[] = [];
  const before = openFds();
  const a: Feature = { name: 'a', aroundClone: () => { calls.push('a'); return () => { calls.push('undo a'); }; } };
  const b: Feature = { name: 'b', aroundClone: () => { calls.push('b'); return () => { calls.push('undo b'); throw new Error('undo b failed'); }; } };
  await t.throwsAsync(spawn({ argv: ['/bin/true'], features: [a, b] }), { message: 'undo b failed' });
  t.deepEqual(calls, ['a', 'b', 'undo b', 'undo a']);
  t.deepEqual(childrenOfThisProcess(), []);
  t.deepEqual(openFds(), before);
  calls.length = 0;
  const ok = await spawn({ argv: ['/bin/true'], features: [a] });
  t.deepEqual(calls, ['a', 'undo a']);
  t.is((await ok.exited).code, 0);
});

test.serial('what a cleanup throws is reported on the exit status, and the other cleanups still run', async (t) => {
  const ran: string[] = [];
  const a: Feature = { name: 'a', cleanup: () => { ran.push('a'); } };
  const b: Feature = { name: 'b', cleanup: () => { ran.push('b'); throw new Error('cannot remove b'); } };
  const child = await spawn({ argv: ['/bin/true'], features: [a, b] });
  const s = await child.exited;
  t.is(s.code, 0);
  t.deepEqual(ran, ['b', 'a']);
  t.is((s.cleanupErrors?.[0] as Error).message, 'cannot remove b');
  const clean = await (await spawn({ argv: ['/bin/true'], features: [a] })).exited;
  t.is(clean.cleanupErrors, undefined);
});
