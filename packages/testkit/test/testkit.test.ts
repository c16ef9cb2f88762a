import test from 'ava';
import { hostState, leftSince, nsInode, run, sh } from '../src/index.ts';

const before = hostState();

test.serial('run captures stdout, stderr and the exit status; during sees the live child', async (t) => {
  let seen = 0;
  const r = await run({ argv: ['/bin/sh', '-c', 'echo out; echo err >&2; sleep 0.3; exit 3'], namespaces: ['uts'] }, (child) => { seen = nsInode(child.pid, 'uts'); });
  t.deepEqual([r.stdout, r.stderr, r.code], ['out\n', 'err\n', 3]);
  t.not(seen, nsInode('self', 'uts'));
});

test.serial('sh throws with the output when the script fails', async (t) => {
  await t.throwsAsync(sh('echo why; exit 1'), { message: /exited 1\nstdout: why/ });
});

test.serial('a spawn that fails leaves no capture pipe open', async (t) => {
  await t.throwsAsync(run({ argv: ['/nonexistent/program'] }), { message: /ENOENT/ });
});

test.serial('leftSince sees nothing left after the runs above', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});
