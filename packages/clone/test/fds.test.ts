import test from 'ava';
import { readlinkSync } from 'node:fs';
import { O, close, pipe2 } from '@nsk/syscall';
import { spawn } from '../src/index.ts';
import { capture, openFds } from './helpers.ts';

test.serial('fds given in stdio become the child’s 0, 1, 2 and 3, and no other fd arrives', async (t) => {
  const out = capture();
  const [r, w] = pipe2(O.CLOEXEC);
  const child = await spawn({ argv: ['/bin/sh', '-c', 'echo to-three >&3; ls /proc/self/fd'], stdio: [0, out.fd, 2, w] });
  close(w);
  t.is((await child.exited).code, 0);
  // ls lists 0-3 plus its own directory fd (4).
  t.deepEqual((await out.text()).trim().split('\n'), ['0', '1', '2', '3', '4']);
  const buf = Buffer.alloc(64);
  const { readSync } = await import('node:fs');
  t.is(buf.subarray(0, readSync(r, buf)).toString(), 'to-three\n');
  close(r);
});

test.serial('swapped fds (1 → 2 and 2 → 1) arrive swapped', async (t) => {
  const a = capture();
  const b = capture();
  // Give the child fd 1 = b and fd 2 = a, where b and a were made in the other order.
  const child = await spawn({ argv: ['/bin/sh', '-c', 'echo out; echo err >&2'], stdio: [null, b.fd, a.fd] });
  t.is((await child.exited).code, 0);
  t.is(await b.text(), 'out\n');
  t.is(await a.text(), 'err\n');
});

test.serial('a null entry leaves that fd closed in the child', async (t) => {
  const out = capture();
  const child = await spawn({ argv: ['/bin/sleep', '1'], stdio: [null, out.fd, null] });
  try {
    t.deepEqual(openFds(child.pid), ['1']);
    t.regex(readlinkSync(`/proc/${child.pid}/fd/1`), /^pipe:/);
  } finally {
    child.kill('SIGKILL');
    await child.exited;
    await out.text();
  }
});
