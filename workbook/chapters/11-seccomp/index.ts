// Chapter 11: seccomp — a filter in front of every system call. Three
// containers: one where mkdir fails with EPERM, one killed by SIGSYS the
// moment it calls keyctl, and one under nsk's default profile.
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { explainSpawn, type SpawnOptions } from '@nsk/clone';
import { rootfs } from '@nsk/mount';
import { cachedAllow, compile, defaultProfile, seccomp, syscallTable, AUDIT_ARCH, type Filter, type SeccompProfile } from '@nsk/seccomp';
import { defineChapter } from '../../src/chapter.ts';
import { run, scratchDir, scratchRootfs, type RunResult } from '../../src/lab.ts';

/** mkdir and mkdirat fail with EPERM (errno 1); everything else runs. */
export const NO_MKDIR: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
};

/** keyctl kills the whole process. */
export const KILL_KEYCTL: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['keyctl'], action: 'SCMP_ACT_KILL_PROCESS' }],
};

/** The same session (/session.sh) without a filter and under the default profile. */
export const SESSION = [
  'exec 2>&1',
  'echo "hello from $(hostname)"; ls / | wc -l; cd /tmp && echo note > n && cat n',
  'unshare -n true && echo "unshare: made a network namespace"',
  'hostname box && echo "hostname: now $(hostname)"',
  'mknod /tmp/null c 1 3 && echo "mknod: made a device node"',
  'keyctl-demo',
  '',
].join('\n');

export interface Lab {
  /** A busybox root filesystem with /bin/keyctl-demo in it. */
  readonly root: string;
  /** A scratch directory on the host. */
  readonly hostDir: string;
  /** keyctl.c, built static, on the host. */
  readonly keyctl: string;
  dispose(): void;
}

/** A root filesystem and keyctl.c built static (gcc -static) into it and beside it. */
export function openLab(): Lab {
  const root = scratchRootfs();
  const host = scratchDir('nsk-workbook-11-');
  try {
    const keyctl = join(host.path, 'keyctl-demo');
    const source = fileURLToPath(new URL('keyctl.c', import.meta.url));
    execFileSync('gcc', ['-static', '-O2', '-o', keyctl, source]);
    copyFileSync(keyctl, join(root.path, 'bin/keyctl-demo'));
    writeFileSync(join(root.path, 'session.sh'), SESSION);
    return { root: root.path, hostDir: host.path, keyctl, dispose: () => { root.dispose(); host.dispose(); } };
  } catch (err) {
    root.dispose();
    host.dispose();
    throw err;
  }
}

export interface Side {
  status: number;
  signal: string | null;
  output: string;
}

const side = (r: RunResult): Side => ({ status: r.status, signal: r.signal, output: (r.stdout + r.stderr).trim() });

/** A container of our own: its root, pid, uts, ipc and net; the filter last. */
function containerOptions(lab: Lab, script: string, profile?: SeccompProfile | Filter): SpawnOptions {
  return {
    argv: ['/bin/sh', '-c', script],
    env: { PATH: '/bin:/sbin:/usr/bin:/usr/sbin' },
    namespaces: ['pid', 'uts', 'ipc', 'net'],
    features: [rootfs({ path: lab.root, readonly: true }), ...(profile ? [seccomp(profile)] : [])],
  };
}

/** mkdir on the host, and in a container whose filter answers mkdir with EPERM. */
export async function mkdirExperiment(lab: Lab): Promise<{ host: Side; container: Side; filter: string }> {
  const host = await run({ argv: ['/bin/busybox', 'sh', '-c', `exec 2>&1; mkdir ${lab.hostDir}/made && echo "made ${lab.hostDir}/made"`] });
  const container = await run(containerOptions(lab, 'exec 2>&1; mkdir /tmp/made && echo made /tmp/made', NO_MKDIR));
  return { host: side(host), container: side(container), filter: compile(NO_MKDIR).explain() };
}

/** keyctl on the host, and in a container whose filter kills on keyctl. */
export async function keyctlExperiment(lab: Lab): Promise<{ host: Side; container: Side }> {
  const host = await run({ argv: [lab.keyctl] });
  const container = await run(containerOptions(lab, 'exec 2>&1; /bin/keyctl-demo', KILL_KEYCTL));
  return { host: side(host), container: side(container) };
}


export interface DefaultProfileObservation {
  without: Side;
  under: Side;
  /** The program's length, and the calls the kernel can decide once and cache. */
  length: number;
  cacheable: number;
  /** The last three steps of the container's plan. */
  planTail: string;
}

export async function defaultProfileExperiment(lab: Lab): Promise<DefaultProfileObservation> {
  const filter = compile(defaultProfile());
  const session = (profile?: Filter) => ({ ...containerOptions(lab, '', profile), argv: ['/bin/sh', '/session.sh'] });
  const without = await run(session());
  const under = await run(session(filter));
  const table = Object.values(syscallTable(filter.arch));
  const cacheable = table.filter((nr) => cachedAllow(filter.program, AUDIT_ARCH[filter.arch], nr)).length;
  const planTail = explainSpawn(session(filter)).split('\n').slice(-3).join('\n');
  return { without: side(without), under: side(under), length: filter.length, cacheable, planTail };
}

const show2 = (s: Side) => `${s.output}\n${s.signal ? `killed by ${s.signal} (status ${s.status})` : `exit status ${s.status}`}`;

export default defineChapter({
  n: 11,
  slug: 'seccomp',
  title: 'seccomp: a filter in front of every system call',
  titleKo: 'seccomp: 모든 시스템 콜 앞의 필터',
  async run(show) {
    const lab = openLab();
    try {
      show.step('mkdir answers EPERM');
      show.say('The container’s last step before execve installs a filter: a small classic-BPF program the kernel runs on every system call. This one returns SECCOMP_RET_ERRNO|1 for mkdir and mkdirat, ALLOW for the rest.');
      const m = await mkdirExperiment(lab);
      show.code(m.filter);
      show.sideBySide({ host: show2(m.host), container: show2(m.container) });

      show.step('keyctl kills the process');
      show.say('The kernel keyring is not namespaced. This filter answers keyctl with SECCOMP_RET_KILL_PROCESS: the call never runs, and SIGSYS ends the process.');
      const k = await keyctlExperiment(lab);
      show.sideBySide({ host: show2(k.host), container: show2(k.container) });

      show.step('the default profile');
      const d = await defaultProfileExperiment(lab);
      show.say(`nsk's default profile (packages/seccomp/profiles/default.json) compiles to ${d.length} instructions; ${d.cacheable} calls reach ALLOW knowing only arch and number, so the kernel decides them once and never runs the filter for them again. Left: the same session in a container without a filter; right: under the profile.`);
      show.code(d.planTail);
      show.sideBySide({ host: show2(d.without), container: show2(d.under) });
    } finally {
      lab.dispose();
    }
  },
});
