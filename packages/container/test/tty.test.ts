// tty: a new pty; the program's stdin, stdout, stderr and controlling
// terminal; read and written through the master, resized with TIOCSWINSZ.
import test from 'ava';
import { closeSync, read, readFileSync, writeSync } from 'node:fs';
import { testRootfs } from '@nsk/testkit';
import { ValidationError } from '@nsk/syscall';
import { exec, prepare, setTerminalSize, start } from '../src/index.ts';
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

/**
 * The first line the program writes, then a newline typed for its `read`:
 * it waits for it, so its output is read before the slave closes (pty(7):
 * once the slave side is gone, what the master did not read yet may be lost).
 */
function firstLine(master: number): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const next = () => read(master, Buffer.alloc(4096), 0, 4096, null, (err, n, buf) => {
      if (err || n === 0) return reject(err ?? new Error(`end of output before a line: ${JSON.stringify(text)}`));
      text += buf.subarray(0, n).toString();
      if (!text.includes('\n')) return next();
      writeSync(master, '\n');
      resolve(text.slice(0, text.indexOf('\n')).replace(/\r$/, ''));
    });
    next();
  });
}

test('tty { rows, columns }: the size is the pty’s before the command runs — its very first stty sees it', async (t) => {
  // Several at once: no start may let its command run before the size is set.
  const sizes = [[45, 123], [2, 3], [300, 1000], [24, 80]] as const; // (busybox stty reads 1 as "unknown")
  const lines = await Promise.all(sizes.map(async ([rows, columns]) => {
    const c = await start({ rootfs: root, network: 'none', tty: { rows, columns }, command: ['/bin/sh', '-c', 'stty size; read x'] });
    names.push(c.name);
    try {
      return await firstLine(c.terminal!);
    } finally {
      await c.exited;
      closeSync(c.terminal!);
    }
  }));
  t.deepEqual(lines, sizes.map(([r, c]) => `${r} ${c}`));
});

test('exec with tty { rows, columns }: sized before the program runs', async (t) => {
  const c = await start({ rootfs: root, network: 'none', command: ['/bin/sleep', '30'], stdio: [null, null, null] });
  names.push(c.name);
  try {
    const p = await exec(c.state(), ['/bin/sh', '-c', 'stty size; read x'], { tty: { rows: 33, columns: 90 } });
    try {
      t.is(await firstLine(p.terminal!), '33 90');
    } finally {
      await p.exited;
      closeSync(p.terminal!);
    }
    await t.throwsAsync(exec(c.state(), ['/bin/true'], { tty: { rows: 0, columns: 80 } }), { instanceOf: ValidationError, message: /^tty\.rows: / });
  } finally {
    c.kill('SIGKILL');
    await c.exited;
  }
});

test('a bad tty size is refused before anything is made', (t) => {
  const field = (tty: unknown) => (t.throws(() => prepare({ rootfs: root, network: 'none', tty: tty as boolean }), { instanceOf: ValidationError }) as ValidationError).field;
  t.is(field({ rows: 0, columns: 80 }), 'tty.rows');
  t.is(field({ rows: 24, columns: 65536 }), 'tty.columns');
  t.is(field({ rows: 24, columns: 1.5 }), 'tty.columns');
  t.is(field({ rows: 24 }), 'tty.columns');
  t.is(field({ rows: 24, columns: 80, x: 1 }), 'tty.x');
  t.is(field('yes'), 'tty');
});
