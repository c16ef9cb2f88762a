// -it under a real terminal: util-linux script(1) gives nsk a pty of its
// own, as a person's terminal would. Checked: the container gets a pty of
// its own with nsk's window size (and its changes), keys typed reach it,
// its bytes come back unchanged, and nsk's terminal is put back as it was.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostState, leftSince } from '@nsk/testkit';
import { MAIN, NODE_ARGS, removeLeftovers, nskIn, stateDir, waitFor } from './helpers.ts';

const nsk = nskIn(stateDir());
const before = hostState();
const NSK = [process.execPath, ...NODE_ARGS, MAIN].join(' ');

/** `script -qec CMD /dev/null`: CMD on a new pty; resolves with what the pty showed and the status. */
function underPty(cmd: string, feed?: (write: (s: string) => void, output: () => string) => Promise<void>): Promise<{ out: string; status: number | null }> {
  const c = nsk.inside(() => spawn('script', ['-qec', cmd, '/dev/null'], { env: nsk.env, stdio: ['pipe', 'pipe', 'pipe'] }));
  let out = '';
  c.stdout.on('data', (d) => { out += String(d); });
  c.stderr.on('data', (d) => { out += String(d); });
  const done = new Promise<{ out: string; status: number | null }>((resolve) => c.on('close', (status) => resolve({ out, status })));
  void (async () => {
    try {
      if (feed) await feed((s) => c.stdin.write(s), () => out);
    } catch {
      c.kill('SIGKILL'); // the expected output never came: end it, the assertions say what was seen
    }
    // Keep stdin open until the end: at end of file script(1) would type into the pty.
    await done;
    c.stdin.end();
  })();
  return done;
}

test('-it: a pty of the container’s own, with nsk’s window size; bytes pass unchanged', async (t) => {
  const r = await underPty(`stty cols 123 rows 45; ${NSK} run -it --net none -- sh -c 'stty size; test -t 0 && echo stdin is a tty; tty; echo "TERM=$TERM"'`);
  t.is(r.status, 0);
  // One \r per line: the container's pty adds it, nsk's raw terminal adds none.
  t.is(r.out, '45 123\r\nstdin is a tty\r\n/dev/console\r\nTERM=xterm\r\n');
});

test('-it: keys typed reach the container, its status comes back, and the terminal is restored', async (t) => {
  const r = await underPty(`stty -g > /dev/null; before=$(stty -g); ${NSK} run -it --net none -- sh -c 'echo ready; read line; echo "got <$line>"; exit 7'; s=$?; [ "$(stty -g)" = "$before" ] && echo restored; exit $s`,
    async (write, output) => {
      await waitFor(() => output().includes('ready'), 15_000, 'ready');
      write('hello there\r');
    });
  t.is(r.status, 7);
  // The container's own line discipline echoed the keys (nsk's terminal is raw: no second echo).
  t.is(r.out, 'ready\r\nhello there\r\ngot <hello there>\r\nrestored\r\n');
});

test('-t: a window size change reaches the container as SIGWINCH with the new size', async (t) => {
  // The pty has nsk's size before the script runs: no SIGWINCH comes but the resize's.
  const script = 'trap "echo winch \\$(stty size); exit 0" WINCH; echo ready $(stty size); i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; echo no winch';
  const dir = mkdtempSync(join(tmpdir(), 'nsk-cli-tty-'));
  const fifo = join(dir, 'go');
  execFileSync('mkfifo', [fifo]);
  // The resize waits for the test's word on the fifo, sent once the container is ready.
  const r = await underPty(`stty cols 80 rows 24; ${NSK} run -t --net none -- sh -c '${script}' & read go < ${fifo}; stty cols 100 rows 30; wait`,
    async (_write, output) => {
      await waitFor(() => output().includes('ready'), 15_000, 'ready');
      writeFileSync(fifo, 'go\n');
    });
  rmSync(dir, { recursive: true, force: true });
  t.is(r.status, 0);
  t.is(r.out, 'ready 24 80\r\nwinch 30 100\r\n');
});

test('-t without -i: the container reads nothing from nsk’s terminal', async (t) => {
  const r = await underPty(`${NSK} run -t --net none -- sh -c 'echo ready; read -t 2 line && echo "got <$line>" || echo "no input"'`, async (write, output) => {
    await waitFor(() => output().includes('ready'), 15_000, 'ready');
    write('typed\r');
  });
  // nsk's terminal (cooked: no -i) echoes the keys itself; the container never reads them.
  t.is(r.out.replace(/typed\r?\n/, ''), 'ready\r\nno input\r\n');
});

test('exec -it: a pty for the new process in the running container; -dt logs what its pty showed', async (t) => {
  t.is(nsk('run', '-dt', '--net', 'none', '--name', 'tty-d', '--', 'sh', '-c', 'stty size; tty; exec sleep 30').status, 0);
  const r = await underPty(`stty cols 90 rows 33; ${NSK} exec -it tty-d sh -c 'stty size; test -t 0 && echo tty; echo $$'`);
  t.is(r.status, 0);
  const [size, tty, pid] = r.out.split('\r\n');
  t.is(size, '33 90');
  t.is(tty, 'tty');
  t.true(Number(pid) > 1);
  // A detached pty has the classic 80×24, from before its command runs.
  await waitFor(() => nsk('logs', 'tty-d').stdout.includes('/dev/console'), 10_000, 'the log');
  t.regex(nsk('logs', 'tty-d').stdout, /^24 80\r\n\/dev\/console\r\n$/);
  t.is(nsk('rm', '-f', 'tty-d').status, 0);
});

test.after.always('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
  t.deepEqual(removeLeftovers(nsk), []);
});
