import test from 'ava';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Plan, spawn } from '@nsk/clone';
import { NskError, ValidationError } from '@nsk/syscall';
import { ElfError, LibraryNotFoundError, hostRootfs, hostRootfsFiles, readElf } from '../src/index.ts';
import { writeElf } from './elf-fixtures.ts';

const base = mkdtempSync(join(tmpdir(), 'nsk-host-rootfs-test-'));
const fdsBefore = readdirSync('/proc/self/fd').length;
const children = () => readdirSync('/proc/self/task').flatMap((tid) => readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));

/** Resolves `path` inside `root` as the kernel would after chroot(2): links are followed within the root. */
function resolveIn(root: string, path: string, depth = 0): string {
  if (depth > 40) throw new Error(`too many links resolving ${path}`);
  const parts = path.split('/').filter((p) => p && p !== '.');
  let cur = '/';
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '..') {
      cur = cur === '/' ? '/' : cur.slice(0, cur.lastIndexOf('/')) || '/';
      continue;
    }
    const next = cur === '/' ? `/${parts[i]}` : `${cur}/${parts[i]}`;
    const st = lstatSync(root + next);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(root + next);
      return resolveIn(root, [isAbsolute(target) ? target : `${cur}/${target}`, ...parts.slice(i + 1)].join('/'), depth + 1);
    }
    cur = next;
  }
  return cur;
}

/** Runs `argv` chrooted into `root`, in a new mount namespace; returns its exit status and output. */
async function inRoot(root: string, argv: string[]): Promise<{ status: number; out: string }> {
  const outFile = join(base, `out-${process.hrtime.bigint()}`);
  const fd = openSync(outFile, 'w');
  try {
    const plan = new Plan();
    plan.chroot(root);
    plan.chdir('/');
    const child = await spawn({ argv, namespaces: ['mount'], plan, stdio: [null, fd, fd] });
    const { status } = await child.exited;
    return { status, out: readFileSync(outFile, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

test.serial('a rootfs of bash and ls runs bash after chroot(2): its own version, and / lists the rootfs, not the host', async (t) => {
  const dir = hostRootfs(join(base, 'bash'), { binaries: ['/bin/bash', 'ls'] });
  const { status, out } = await inRoot(dir, ['/bin/bash', '-c', 'echo $BASH_VERSION; ls /']);
  t.is(status, 0, out);
  const [version, ...listing] = out.trim().split('\n');
  t.is(version, execFileSync('/bin/bash', ['-c', 'echo $BASH_VERSION'], { encoding: 'utf8' }).trim());
  const rootfs = readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  t.deepEqual(listing, rootfs);
  t.notDeepEqual(listing, readdirSync('/').filter((n) => !n.startsWith('.')).sort());
  for (const d of ['proc', 'dev', 'sys', 'tmp', 'etc', 'root', 'run']) t.true(listing.includes(d), d);
});

test('every file of the closure is at its host path, each link on the way kept as the same link, with the same bytes and mode', (t) => {
  const dir = hostRootfs(join(base, 'links'), { binaries: ['/bin/bash', 'ls'] });
  const { files, ldd } = hostRootfsFiles({ binaries: ['/bin/bash', 'ls'] });
  const interp = ldd[0]!.interpreter!.path!;
  t.true(files.includes(interp));
  for (const f of files) {
    // Resolved inside the root, the path lands where it lands on the host.
    const inside = resolveIn(dir, f);
    t.is(inside, realpathSync(f), f);
    const [a, b] = [statSync(dir + inside), statSync(inside)];
    t.true(a.isFile(), f);
    t.is(a.size, b.size, f);
    t.is(a.mode, b.mode, f);
    t.true(readFileSync(dir + inside).equals(readFileSync(inside)), f);
    // Each component that is a link on the host is the same link here.
    let p = '';
    for (const part of f.split('/').filter(Boolean)) {
      p += `/${part}`;
      if (lstatSync(p).isSymbolicLink()) {
        t.true(lstatSync(dir + p).isSymbolicLink(), p);
        t.is(readlinkSync(dir + p), readlinkSync(p), p);
        break; // the rest is under the link's target, checked by resolveIn
      }
    }
  }
  // The interpreter's path and every link it goes through, as the host has them.
  t.is(lstatSync(join(dir, interp)).isSymbolicLink(), lstatSync(interp).isSymbolicLink());
  t.is(lstatSync(join(dir, '/lib64')).isSymbolicLink(), lstatSync('/lib64').isSymbolicLink());
  t.is(lstatSync(join(dir, 'tmp')).mode & 0o7777, 0o1777);
  t.deepEqual(readdirSync(join(dir, 'proc')), []);
});

test('a #! script brings its interpreter: ldd (a bash script) runs in the rootfs and lists what bash needs there', async (t) => {
  const { binaries } = hostRootfsFiles({ binaries: ['ldd'] });
  t.true(binaries.includes('/bin/bash') || binaries.includes(realpathSync('/bin/bash')), binaries.join(' '));
  const dir = hostRootfs(join(base, 'script'), { binaries: ['ldd'], extra: ['/etc/os-release'] });
  t.is(readFileSync(join(dir, resolveIn(dir, '/etc/os-release')), 'utf8'), readFileSync('/etc/os-release', 'utf8'));
  t.is(lstatSync(join(dir, 'etc/os-release')).isSymbolicLink(), lstatSync('/etc/os-release').isSymbolicLink());
  const { status, out } = await inRoot(dir, ['/bin/bash', '-c', 'ldd /bin/bash']);
  t.is(status, 0, out);
  t.regex(out, /libc\.so\.6 => \S+libc\.so\.6/);
});

test('a binary whose library is missing fails before anything is created, naming the library and who needs it', (t) => {
  const app = writeElf(join(base, 'needs-missing'), { ...host(), needed: ['libnsk-not-here.so.3', 'libc.so.6'] });
  const dir = join(base, 'missing');
  const e = t.throws(() => hostRootfs(dir, { binaries: [app] }), { instanceOf: LibraryNotFoundError });
  t.is(e.code, 'ERR_NSK_LIBRARY_NOT_FOUND');
  t.is(e.binary, app);
  t.deepEqual(e.missing.map((m) => m.name), ['libnsk-not-here.so.3']);
  t.true(e.message.includes(`libnsk-not-here.so.3 => not found (needed by ${app})`), e.message);
  t.false(existsSync(dir));
  t.deepEqual(readdirSync(base).filter((n) => n.startsWith('missing')), []);
});

test('a file that is not ELF, a name not in PATH, bad options: typed errors, nothing created', (t) => {
  const dir = join(base, 'invalid');
  const e = t.throws(() => hostRootfs(dir, { binaries: ['/etc/passwd'] }), { instanceOf: ElfError });
  t.is(e.path, '/etc/passwd');
  t.is(t.throws(() => hostRootfs(dir, { binaries: ['nsk-no-such-program'] }), { instanceOf: ValidationError }).field, 'binaries');
  t.is(t.throws(() => hostRootfs(dir, { binaries: [] }), { instanceOf: ValidationError }).field, 'binaries');
  t.is(t.throws(() => hostRootfs(dir, { binaries: ['/bin/bash'], extra: ['relative/path'] }), { instanceOf: ValidationError }).field, 'extra');
  t.is(t.throws(() => hostRootfs(dir, { binaries: ['/bin/bash'], extra: ['/nsk/no/such/file'] }), { instanceOf: ValidationError }).field, 'extra');
  t.false(existsSync(dir));
  t.deepEqual(readdirSync(base).filter((n) => n.startsWith('invalid')), []);
});

test('building twice reuses the first build; another set of binaries in the same dir is refused', (t) => {
  const dir = hostRootfs(join(base, 'twice'), { binaries: ['/bin/bash'] });
  const marker = lstatSync(join(dir, '.nsk-rootfs')).mtimeMs;
  t.is(hostRootfs(dir, { binaries: ['/bin/bash'] }), dir);
  t.is(lstatSync(join(dir, '.nsk-rootfs')).mtimeMs, marker);
  t.is(t.throws(() => hostRootfs(dir, { binaries: ['/bin/bash', 'ls'] }), { instanceOf: NskError }).code, 'ERR_NSK_ROOTFS_EXISTS');
  t.deepEqual(readdirSync(base).filter((n) => n.includes('.tmp-')), []);
});

test('an extra directory is copied with its contents; a link back up into it is kept as a link, not followed forever', (t) => {
  const src = join(base, 'extra-src');
  mkdirSync(join(src, 'share/doc'), { recursive: true });
  writeFileSync(join(src, 'share/doc/readme'), 'hello\n');
  symlinkSync('.', join(src, 'share/self'));
  symlinkSync('doc/readme', join(src, 'share/readme-link'));
  const dir = hostRootfs(join(base, 'extra'), { binaries: ['/bin/bash'], extra: [src] });
  t.is(readlinkSync(join(dir, src, 'share/self')), '.');
  t.is(readlinkSync(join(dir, src, 'share/readme-link')), 'doc/readme');
  t.is(readFileSync(join(dir, resolveIn(dir, `${src}/share/self/self/readme-link`)), 'utf8'), 'hello\n');
});

/** This host's machine and loader, for hand-made binaries. */
function host() {
  const e = readElf('/bin/bash');
  return { class: e.class, endian: e.endian, machine: e.machine, interpreter: e.interpreter! } as const;
}

test.after.always('nothing is left behind: no mount, no child, no fd, no temporary dir, then no scratch dir', (t) => {
  // The chroot happened in the child's own mount namespace: no mount here names our dirs.
  t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(base));
  t.deepEqual(children(), []);
  t.is(readdirSync('/proc/self/fd').length, fdsBefore);
  t.deepEqual(readdirSync(base).filter((n) => n.includes('.tmp-')), []);
  rmSync(base, { recursive: true, force: true });
  t.false(existsSync(base));
});
