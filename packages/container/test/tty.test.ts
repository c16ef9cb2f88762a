// tty: a new pty; the program's stdin, stdout, stderr and controlling
// terminal; read and written through the master, resized with TIOCSWINSZ.
import test from 'ava';
import { closeSync, read, readFileSync, writeSync } from 'node:fs';
import { testRootfs } from '@nsk/testkit';
import { exec, setTerminalSize, start } from '../src/index.ts';
import { baseline, leftovers, traces } from './helpers/box.ts';

const before = baseline();
const root = testRootfs();
const names: string[] = [];

test.after.always('nothing is left behind (the master is closed by its owner)', (t) => {
  t.deepEqual(leftovers(before), { mounts: [], children: [], fds: [] });
  for (const n of names) t.deepEqual(traces(n), [], n);
});

/** Everything the master gives until the slave side is closed for good (EIO). */
function drain(master: number): Promise<string> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    const next = () => read(master, Buffer.alloc(4096), 0, 4096, null, (err, n, buf) => {
      if (err || n === 0) return resolve(Buffer.concat(chunks).toString());
      chunks.push(buf.subarray(0, n));
      next();
    });
    next();
  });
}

/** stat(5) of /proc/PID/stat: fields after the command's closing parenthesis. */
function statFields(pid: number): string[] {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

test('the container’s terminal: its stdio and controlling tty, /dev/console, TERM, sized by the master', async (t) => {
  const c = await start({ rootfs: root, network: 'none', tty: true, command: ['/bin/sh', '-c', 'read line; echo "got $line"; stty size; tty; [ -t 1 ] && echo out-tty; echo "TERM=$TERM"; grep " /dev/console " /proc/self/mountinfo | wc -l'] });
  names.push(c.name);
  t.is(typeof c.terminal, 'number');
  const master = c.terminal!;
  // stat(5): field 6 is the session id, 7 the controlling terminal (0: none).
  const [, , , sid, ttyNr] = statFields(c.pid);
  t.is(Number(sid), c.pid, 'a session leader (setsid)');
  t.not(Number(ttyNr), 0, 'with a controlling terminal');
  setTerminalSize(master, 40, 100);
  const out = drain(master);
  writeSync(master, 'hello\n');
  const status = await c.exited;
  const text = (await out).replace(/\r/g, '');
  closeSync(master);
  t.is(status.status, 0);
  t.regex(text, /^hello\n/, 'the line discipline echoes what is typed');
  t.regex(text, /got hello\n40 100\n\/dev\/console\nout-tty\nTERM=xterm\n1\n/);
});

test('exec with tty gets a terminal of its own in the running container', async (t) => {
  const c = await start({ rootfs: root, network: 'none', command: ['/bin/sleep', '30'], stdio: [null, null, null] });
  names.push(c.name);
  try {
    const p = await exec(c.state(), ['/bin/sh', '-c', 'tty >/dev/null && echo is-tty; [ -t 0 ] && echo in-tty; echo "pid1=$(cat /proc/1/comm)"'], { tty: true });
    const out = drain(p.terminal!);
    const s = await p.exited;
    const text = (await out).replace(/\r/g, '');
    closeSync(p.terminal!);
    t.is(s.status, 0, text);
    t.regex(text, /in-tty\npid1=sleep/);
  } finally {
    c.kill('SIGKILL');
    await c.exited;
  }
});
