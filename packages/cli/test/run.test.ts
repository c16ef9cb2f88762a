import test from 'ava';
import { spawn as spawnProcess, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const nsk = (...args: string[]) => spawnSync(process.execPath, ['--conditions=nsk-source', '--no-warnings=ExperimentalWarning', main, ...args], { encoding: 'utf8' });

test.serial('nsk run runs the command as pid 1 with its own hostname in the default busybox root', (t) => {
  const r = nsk('run', '--hostname', 'web1', '--', 'sh', '-c', 'echo $$ $(hostname); ls /bin/busybox; grep -c nsk-cli /proc/mounts || true');
  t.is(r.stderr, '');
  t.deepEqual(r.stdout.trim().split('\n'), ['1 web1', '/bin/busybox', '0']);
  t.is(r.status, 0);
});

test.serial('nsk run exits with the command’s status, 128+signal when killed', async (t) => {
  t.is(nsk('run', '--', 'sh', '-c', 'exit 42').status, 42);
  // pid_namespaces(7): PID 1 ignores signals it has no handler for, even
  // SIGKILL from inside its namespace; from outside, SIGKILL always works.
  const cli = spawnProcess(process.execPath, ['--conditions=nsk-source', main, 'run', '--', 'sleep', '30'], { stdio: 'ignore' });
  let container = 0;
  for (let i = 0; i < 200 && !container; i++) {
    await new Promise((r) => setTimeout(r, 20));
    for (const tid of readdirSync(`/proc/${cli.pid}/task`)) {
      const kids = readFileSync(`/proc/${cli.pid}/task/${tid}/children`, 'utf8').trim();
      if (kids && readFileSync(`/proc/${kids.split(' ')[0]}/comm`, 'utf8').trim() === 'sleep') container = Number(kids.split(' ')[0]);
    }
  }
  t.true(container > 0);
  process.kill(container, 'SIGKILL');
  const [code] = (await once(cli, 'exit')) as [number];
  t.is(code, 137);
});

test.serial('nsk run leaves no mount behind on the host', (t) => {
  const before = readFileSync('/proc/self/mountinfo', 'utf8');
  t.is(nsk('run', '--rw', '--', 'sh', '-c', 'mount -t tmpfs nsk-cli /mnt 2>/dev/null || mount -t tmpfs nsk-cli /tmp').status, 0);
  t.is(readFileSync('/proc/self/mountinfo', 'utf8'), before);
});

test('--explain prints the plan and runs nothing', (t) => {
  const r = nsk('run', '--explain', '--hostname', 'x', '--', '/bin/true');
  t.is(r.status, 0);
  t.regex(r.stdout, /^clone\(CLONE_NEWNET\|CLONE_NEWPID\|CLONE_NEWIPC\|CLONE_NEWUTS\|CLONE_NEWCGROUP\|CLONE_NEWNS\|SIGCHLD\)/);
  t.regex(r.stdout, /pivot_root\("\.", "\."\)/);
  t.regex(r.stdout, /sethostname\("x", 1\)/);
  t.regex(r.stdout, /execve\("\/bin\/true"/);
});

test('bad input fails with a clear message and status 125, before anything starts', (t) => {
  const a = nsk('run', '--rootfs', '/nonexistent/nsk', '--', 'sh');
  t.is(a.status, 125);
  t.is(a.stderr, 'nsk: rootfs.path: /nonexistent/nsk is not a directory\n');
  const b = nsk('run');
  t.is(b.status, 125);
  t.regex(b.stderr, /command: give a command/);
  const c = nsk('run', '--hostname', 'x'.repeat(65), '--', 'sh');
  t.regex(c.stderr, /hostname: longer than 64 bytes/);
  t.is(nsk('frobnicate').status, 2);
});

test('a missing program is reported naming execve', (t) => {
  const r = nsk('run', '--', '/nope');
  t.is(r.status, 125);
  t.is(r.stderr, 'nsk: execute /nope: execve("/nope", ["/nope"], ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=xterm"]): ENOENT — No such file or directory\n');
});
