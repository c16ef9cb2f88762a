// Chapter 14: looking inside. `docker exec` into chapter 13's running web
// container with @nsk/container's exec(): a shell that joins every
// namespace and the cgroup of the container, with the same capabilities,
// no_new_privs and seccomp filter, and looks around — ps, hostname, mounts,
// ip addr, cgroup — while the host looks at the same things from outside.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { hostname } from 'node:os';
import { execFileSync } from 'node:child_process';
import { O, close, pipe2 } from '@nsk/syscall';
import { inNetns } from '@nsk/net';
import { MASKED_PATHS, READONLY_PATHS } from '@nsk/mount';
import type { ExitStatus } from '@nsk/clone';
// @nsk/container is not (yet) a dependency of the workbook: its sources, by path.
import { exec, type ContainerState } from '@nsk/container';
import { defineChapter } from '../../src/chapter.ts';
import { startWeb, type Web } from '../13-together/index.ts';

/** What the exec'd shell runs: each look after a marker line, then it waits on stdin while the host looks. */
export const LOOKS: ReadonlyArray<[string, string]> = [
  ['ps', 'ps -o pid,comm'],
  ['hostname', 'hostname'],
  ['mounts', 'cat /proc/self/mountinfo'],
  ['ip', 'ip -o -4 addr'],
  ['cgroup', 'cat /proc/self/cgroup'],
  ['ns', 'for n in cgroup ipc mnt net pid time user uts; do echo "$n $(readlink /proc/$$/ns/$n)"; done'],
  ['status', 'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/$$/status'],
];
export type Look = 'ps' | 'hostname' | 'mounts' | 'ip' | 'cgroup' | 'ns' | 'status';

/** A pipe whose read end we follow line by line. */
function follow(): { fd: number; until(marker: string): Promise<string>; end(): Promise<string> } {
  const [r, w] = pipe2(O.CLOEXEC);
  const sock = new Socket({ fd: r, readable: true, writable: false });
  let text = '';
  const waiters: Array<() => void> = [];
  sock.on('data', (c: Buffer) => { text += c.toString(); for (const f of waiters.splice(0)) f(); });
  const ended = new Promise<void>((res) => sock.once('end', () => { sock.destroy(); for (const f of waiters.splice(0)) f(); res(); }));
  let closed = false;
  const closeW = () => { if (!closed) { closed = true; close(w); } };
  return {
    fd: w,
    until: async (marker) => {
      closeW(); // the child holds its own copy now
      while (!text.includes(marker) && !sock.destroyed) await new Promise<void>((res) => waiters.push(res));
      return text;
    },
    end: async () => { closeW(); await ended; return text; },
  };
}

/** `@@name` sections of the shell's output. */
export function sections(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  let cur = '';
  for (const line of out.split('\n')) {
    const m = /^@@(\w+)$/.exec(line);
    if (m) { cur = m[1]!; r[cur] = ''; continue; }
    if (cur) r[cur] += `${line}\n`;
  }
  return r;
}

const inode = (pid: number | 'self', f: string) => Number(/\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/${f}`))![1]);

/** A process of the container's pid namespace, as the host sees it. */
export interface HostProcess { hostPid: number; pid: number; comm: string }

/** Every process in the pid namespace `pidNs` (an inode): its host pid, its pid inside (NSpid), its name. */
export function processesIn(pidNs: number): HostProcess[] {
  const out: HostProcess[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (inode(Number(d), 'pid') !== pidNs) continue;
      const status = readFileSync(`/proc/${d}/status`, 'utf8');
      const nspid = /^NSpid:\s*(.*)$/m.exec(status)![1]!.trim().split(/\s+/);
      out.push({ hostPid: Number(d), pid: Number(nspid.at(-1)), comm: /^Name:\s*(.*)$/m.exec(status)![1]! });
    } catch { /* gone meanwhile */ }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** One mount, from a mountinfo line (proc(5)): where, what of its filesystem, type, options. */
export interface MountLine { mountPoint: string; root: string; fstype: string; source: string; options: string[] }

export function parseMountinfo(text: string): MountLine[] {
  return text.trim().split('\n').filter(Boolean).map((l) => {
    const f = l.split(' ');
    const dash = f.indexOf('-');
    return { root: f[3]!, mountPoint: f[4]!, options: f[5]!.split(','), fstype: f[dash + 1]!, source: f[dash + 2]! };
  });
}

/**
 * The mounts worth comparing: /, /proc, /sys, /dev, and runc's masked and
 * read-only paths that this kernel has (a missing one cannot be masked).
 */
export function mountPoints(): string[] {
  return ['/', '/proc', '/sys', '/dev', ...MASKED_PATHS.filter((p) => existsSync(p)), ...READONLY_PATHS.filter((p) => existsSync(p))];
}

/** For each of `points`: the topmost mount there, as `fstype ro|rw (root)`, or `-` when it is not a mount point. */
export function mountSummary(mounts: MountLine[], points = mountPoints()): Record<string, string> {
  const r: Record<string, string> = {};
  for (const p of points) {
    const m = mounts.filter((x) => x.mountPoint === p).at(-1);
    r[p] = m ? `${m.fstype} ${m.options.includes('ro') ? 'ro' : 'rw'}${m.root !== '/' ? ` (${m.root})` : ''}` : '-';
  }
  return r;
}

/** The shell's `ns` look: kind → inode of its own /proc/$$/ns links, read inside. */
export function insideNamespaces(text: string): Record<string, number> {
  const r: Record<string, number> = {};
  for (const m of text.matchAll(/^(\w+) \w+:\[(\d+)\]$/gm)) r[m[1]!] = Number(m[2]);
  return r;
}

/** `ip -o -4 addr` as `name address/prefix` lines. */
export function addresses(text: string): string[] {
  return text.trim().split('\n').map((l) => /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(l)).filter((m) => m !== null).map((m) => `${m![1]} ${m![2]}`);
}

export interface Inside {
  state: ContainerState;
  /** The exec'd shell's pid, as the host sees it. */
  execPid: number;
  exit: ExitStatus;
  /** What the shell printed, by look. */
  inside: Record<Look, string>;
  /** The same looks from outside. */
  host: {
    /** The container's pid namespace from the host, while the shell waited (its ps had ended). */
    ps: HostProcess[];
    hostname: string;
    /** The host's own mountinfo. */
    mounts: string;
    /** `ip -o -4 addr` in the stand-in host. */
    ip: string;
    /** /proc/<exec'd shell>/cgroup read by the host. */
    cgroup: string;
    /** Namespace inodes: the exec'd shell's (read by the host), the container's (its state), the host's own. */
    ns: { exec: Record<string, number>; container: Record<string, number>; host: Record<string, number> };
    /** /proc/<exec'd shell>/status, CapEff NoNewPrivs Seccomp, and PID 1's. */
    status: { exec: Record<string, string>; pid1: Record<string, string> };
  };
}

const NS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;
const KIND: Record<string, string> = { cgroup: 'cgroup', ipc: 'ipc', mnt: 'mount', net: 'net', pid: 'pid', time: 'time', user: 'user', uts: 'uts' };

function statusOf(pid: number): Record<string, string> {
  const r: Record<string, string> = {};
  for (const m of readFileSync(`/proc/${pid}/status`, 'utf8').matchAll(/^(CapEff|NoNewPrivs|Seccomp):\s*(.*)$/gm)) r[m[1]!] = m[2]!;
  return r;
}

/**
 * exec()s a shell into the running `web` container: it runs LOOKS and waits
 * on stdin; meanwhile the host takes the same views from outside; then the
 * shell is let go.
 */
export async function lookInside(web: Web): Promise<Inside> {
  const state = web.container.state();
  const [inR, inW] = pipe2(O.CLOEXEC);
  const out = follow();
  const script = `${LOOKS.map(([name, cmd]) => `echo @@${name}; ${cmd}`).join('; ')}; echo @@end; read x || true`;
  let p;
  try {
    p = await exec(state, ['/bin/sh', '-c', script], { stdio: [inR, out.fd, out.fd] });
  } finally {
    close(inR);
  }
  let host: Inside['host'];
  try {
    await out.until('@@end');
    const execNs: Record<string, number> = {};
    const hostNs: Record<string, number> = {};
    const containerNs: Record<string, number> = {};
    for (const n of NS) {
      execNs[n] = inode(p.pid, n);
      hostNs[n] = inode('self', n);
      containerNs[n] = state.namespaces[KIND[n]!]!;
    }
    host = {
      ps: processesIn(state.namespaces.pid!),
      hostname: hostname(),
      mounts: readFileSync('/proc/self/mountinfo', 'utf8'),
      ip: inNetns(web.host.fd, () => execFileSync('ip', ['-o', '-4', 'addr'], { encoding: 'utf8' })),
      cgroup: readFileSync(`/proc/${p.pid}/cgroup`, 'utf8'),
      ns: { exec: execNs, container: containerNs, host: hostNs },
      status: { exec: statusOf(p.pid), pid1: statusOf(state.pid) },
    };
  } finally {
    close(inW); // `read x` sees end of file
  }
  const exit = await p.exited;
  const s = sections(await out.end());
  const inside = Object.fromEntries(LOOKS.map(([name]) => [name, s[name] ?? ''])) as Record<Look, string>;
  return { state, execPid: p.pid, exit, inside, host };
}

/** Starts chapter 13's web container, looks inside, stops it. */
export async function inside(): Promise<Inside> {
  const web = await startWeb();
  try {
    return await lookInside(web);
  } finally {
    await web.dispose();
  }
}

const table = (rows: Record<string, string>) => Object.entries(rows).map(([k, v]) => `${k.padEnd(17)} ${v}`).join('\n');

export default defineChapter({
  n: 14,
  slug: 'inside',
  title: 'Looking inside a running container',
  titleKo: '실행 중인 컨테이너 들여다보기',
  async run(show) {
    show.say('Chapter 13\'s web server runs again. exec() starts a shell inside it, as `docker exec` does: the parent writes the new process into the container\'s groups, the child joins its user namespace first and its mount namespace last, and gets the same bounding set, capabilities, no_new_privs and seccomp filter as PID 1. The shell looks around; the host looks at the same things from outside.');
    const r = await inside();
    show.code(`const p = await exec(web.container.state(), ['/bin/sh', '-c', \`
  ps -o pid,comm; hostname; cat /proc/self/mountinfo; ip -o -4 addr; cat /proc/self/cgroup
  readlink /proc/$$/ns/*; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/$$/status
  read x || true   # wait while the host looks\`]);
// p.pid = ${r.execPid} on the host; exit status ${r.exit.status} once let go`);

    show.step('ps: PID 1 is httpd, and the shell sees itself');
    show.sideBySide({
      host: `the container's pid namespace, from /proc\nHOST PID  PID  COMMAND\n${r.host.ps.map((x) => `${String(x.hostPid).padStart(8)}  ${String(x.pid).padStart(3)}  ${x.comm}`).join('\n')}\n(ps, which listed itself, had ended)`,
      container: r.inside.ps.trimEnd(),
    });

    show.step('hostname');
    show.sideBySide({ host: r.host.hostname, container: r.inside.hostname.trim() });

    show.step('Mounts: /proc/self/mountinfo');
    const hostMounts = parseMountinfo(r.host.mounts);
    const inMounts = parseMountinfo(r.inside.mounts);
    show.sideBySide({
      host: `${hostMounts.length} mounts\n${table(mountSummary(hostMounts))}`,
      container: `${inMounts.length} mounts\n${table(mountSummary(inMounts))}`,
    });
    show.say('Inside, / is the rootfs directory (a mount\'s root, in brackets, is the directory of its filesystem it shows): pivot_root put it there and detached the old root, so the host\'s own mounts are not there at all. /sys is read-only. runc\'s masked paths that this kernel has are covered — files by /dev/null (the bind shows /dev/null\'s filesystem, root /null), directories by an empty read-only tmpfs — and its read-only paths are bound read-only over themselves.');

    show.step('ip addr');
    show.sideBySide({ host: `the stand-in host\n${addresses(r.host.ip).join('\n')}`, container: addresses(r.inside.ip).join('\n') });

    show.step('cgroup');
    show.sideBySide({ host: `/proc/${r.execPid}/cgroup\n${r.host.cgroup.trim()}`, container: `/proc/self/cgroup\n${r.inside.cgroup.trim()}` });

    show.step('Namespaces and confinement of the exec\'d shell');
    const own = insideNamespaces(r.inside.ns);
    const nsRows = NS.map((n) => `${n.padEnd(7)} ${String(r.host.ns.host[n]).padEnd(11)} ${String(r.host.ns.container[n]).padEnd(11)} ${String(r.host.ns.exec[n]).padEnd(11)} ${String(own[n]).padEnd(11)} ${r.host.ns.exec[n] === r.host.ns.container[n] && own[n] === r.host.ns.container[n] ? '=' : '≠'}`);
    show.code(`kind    host        container   exec'd      its own readlink\n${nsRows.join('\n')}`);
    show.code(`/proc/PID/status   ${'PID 1 (httpd)'.padEnd(20)} exec'd shell\n${['CapEff', 'NoNewPrivs', 'Seccomp'].map((k) => `${k.padEnd(18)} ${(r.host.status.pid1[k] ?? '').padEnd(20)} ${r.host.status.exec[k] ?? ''}`).join('\n')}`);
    show.say('The shell is in every namespace of the container — the same inodes as PID 1 — and as confined as it: the same capabilities, no_new_privs, the same seccomp filter. Only its pid differs, and only from the host\'s side of the pid namespace.');
  },
});
