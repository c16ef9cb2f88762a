// Runs a Node fixture script as an unprivileged user (default nobody,
// 65534:65534), for tests of what a non-root caller can and cannot do. Generic:
// nothing here knows about user namespaces.
//
// The repository may sit under a directory nobody cannot enter (a 0700 home),
// so the child gets its own mount namespace, where the repository root is
// bound onto a fresh 0755 directory under /tmp, and runs node from there.
// Files can be shown at any absolute path in that namespace only (`files`),
// e.g. a test-made /etc/subuid: the host's files are never touched.
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, basename, join, relative } from 'node:path';
import { AT, MS, O, PR, SIG } from '@nsk/syscall';
import { Plan } from '@nsk/clone';
import { run, type RunResult } from './run.ts';

export interface AsUserOptions {
  /** The fixture: a .ts or .js file inside the repository. */
  script: string;
  args?: readonly string[];
  /** Default 65534 (nobody). */
  uid?: number;
  /** Default 65534 (nogroup). */
  gid?: number;
  /**
   * Absolute path → content, shown only in the child's mount namespace: bound
   * over the file when it exists, else added with an overlay on its directory.
   */
  files?: Readonly<Record<string, string>>;
  /** Extra environment. PATH, HOME and LC_ALL are set. */
  env?: Readonly<Record<string, string>>;
  /** The fixture is killed (SIGKILL) after this many ms. Default 60 000. */
  timeout?: number;
}

export interface AsUserResult extends RunResult {
  /** The temporary directory the repository was bound onto (already removed). */
  dir: string;
  /** True when the fixture was killed for running past `timeout`. */
  timedOut: boolean;
}

// Directories made and not yet removed, removed on exit too (a test that
// times out). Removing never hurts a live fixture's repository: see remove().
const pending = new Set<() => void>();
process.once('exit', () => { for (const remove of pending) remove(); });

/** The directory holding pnpm-workspace.yaml, above this file. */
export function repositoryRoot(from = import.meta.dirname): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
  throw new Error(`no pnpm-workspace.yaml above ${from}`);
}

/** The steps that show `files` in the child's (private) mount namespace; writes them into a tmpfs at `staging`. */
function planFiles(plan: Plan, staging: string, files: Readonly<Record<string, string>>): void {
  plan.mount('tmpfs', staging, 'tmpfs', MS.NOSUID | MS.NODEV, 'mode=0755,size=1m', { label: 'mount a tmpfs for the test-made files' });
  const put = (path: string, content: string) => {
    const fd = plan.openat(AT.FDCWD, path, O.CREAT | O.EXCL | O.WRONLY, 0o644);
    if (content.length) plan.write(fd, content);
    plan.close(fd);
  };
  const binds: Array<[string, string]> = [];
  const missing = new Map<string, Array<[string, string]>>();
  for (const [target, content] of Object.entries(files)) {
    if (!target.startsWith('/')) throw new Error(`files: ${target} is not absolute`);
    if (existsSync(target)) binds.push([target, content]);
    else missing.set(dirname(target), [...(missing.get(dirname(target)) ?? []), [basename(target), content]]);
  }
  // A bind needs an existing target; a missing file is added by an overlay
  // whose upper layer (in the tmpfs) holds it (overlayfs(5)). Overlays first:
  // an overlay's lower layer is the directory without the mounts on it, so it
  // would hide a bind made before it.
  [...missing].forEach(([dir, list], i) => {
    const upper = join(staging, `upper-${i}`);
    const work = join(staging, `work-${i}`);
    plan.mkdirat(AT.FDCWD, upper, 0o755);
    plan.mkdirat(AT.FDCWD, work, 0o755);
    for (const [name, content] of list) put(join(upper, name), content);
    plan.mount('overlay', dir, 'overlay', 0, `lowerdir=${dir},upperdir=${upper},workdir=${work}`, { label: `add test-made files to ${dir}` });
  });
  binds.forEach(([target, content], i) => {
    const source = join(staging, `file-${i}`);
    put(source, content);
    plan.mount(source, target, null, MS.BIND, null, { label: `show a test-made ${target}` });
  });
}

/**
 * `node --conditions=nsk-source SCRIPT ARGS…` as `uid`:`gid` with no
 * supplementary groups, in a private mount namespace. Resolves when it has
 * ended, with what it printed; the temporary directory is gone by then.
 */
export async function runAsUser(o: AsUserOptions): Promise<AsUserResult> {
  const uid = o.uid ?? 65534;
  const gid = o.gid ?? 65534;
  const repo = repositoryRoot();
  const script = relative(repo, o.script);
  if (script.startsWith('..')) throw new Error(`${o.script} is not inside ${repo}`);
  // /tmp itself, not os.tmpdir(): TMPDIR may name a directory nobody cannot enter.
  const dir = mkdtempSync('/tmp/nsk-as-user-');
  chmodSync(dir, 0o755);
  const at = join(dir, 'repo');
  const staging = join(dir, 'files');
  const node = join(dir, 'node');
  mkdirSync(at, { mode: 0o755 });
  mkdirSync(staging, { mode: 0o755 });
  closeSync(openSync(node, 'w', 0o755));
  // Never recursive: were the bind visible here, that would delete the
  // repository. Here, in this mount namespace, `repo` is the empty directory
  // under the bind; rmdir(2) removes only empty directories (and, since Linux
  // 3.18, detaches what another namespace mounted on them).
  const remove = () => {
    pending.delete(remove);
    for (const f of [() => unlinkSync(node), () => rmdirSync(at), () => rmdirSync(staging), () => rmdirSync(dir)]) {
      try { f(); } catch { /* already gone */ }
    }
  };
  pending.add(remove);
  try {
    const plan = new Plan();
    // mount_namespaces(7): the copy keeps the host's shared propagation;
    // make it private first, so no bind below shows up on the host.
    plan.mount(null, '/', null, MS.REC | MS.PRIVATE, null, { label: 'make every mount private' });
    plan.mount(repo, at, null, MS.BIND | MS.REC, null, { label: `bind the repository onto ${at}` });
    // Node itself may live under a closed directory too (nvm in /root).
    plan.mount(process.execPath, node, null, MS.BIND, null, { label: `bind ${process.execPath} onto ${node}` });
    if (o.files && Object.keys(o.files).length) planFiles(plan, staging, o.files);
    plan.chdir(join(at, dirname(script)));
    // credentials(7): groups, then gid, then uid — after setresuid(2) to a
    // non-zero uid every capability is gone, so this order is the only one.
    plan.setgroups([]);
    plan.setresgid(gid);
    plan.setresuid(uid);
    // prctl(2): the fixture dies with this process (a test worker that timed
    // out). Set after setresuid, which clears the parent-death signal.
    plan.prctl(PR.SET_PDEATHSIG, SIG.KILL, 0, 0, 0, { label: 'die with the test process' });
    const env = { PATH: '/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/tmp', LC_ALL: 'C', ...o.env };
    const argv = [node, '--conditions=nsk-source', '--no-warnings=ExperimentalWarning', join(at, script), ...(o.args ?? [])];
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const r = await run({ argv, env, namespaces: ['mount'], plan }, (child) => {
      timer = setTimeout(() => { timedOut = child.kill('SIGKILL'); }, o.timeout ?? 60_000);
    });
    clearTimeout(timer);
    return { ...r, dir, timedOut };
  } finally {
    remove();
  }
}

/** runAsUser, then the JSON the fixture printed on its last line; throws with its stderr when it failed. */
export async function runFixture<T>(o: AsUserOptions): Promise<T> {
  const r = await runAsUser(o);
  if (r.status !== 0) throw new Error(`fixture ${o.script} ${(o.args ?? []).join(' ')} ${r.timedOut ? 'timed out' : `exited ${r.status}`}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as T;
}
