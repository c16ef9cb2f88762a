// Chapter 13: everything together. One busybox httpd in a container made by
// @nsk/container with every piece of chapters 1–12 at once — all the
// namespaces, cgroup limits, Docker's capabilities, no_new_privs and the
// default seccomp profile, a rootfs behind pivot_root, a bridge network
// with a published port — answering an HTTP GET from "the host". Then it is
// stopped, and nothing of it is left.
//
// A throwaway network namespace plays the host (networkHost): the bridge,
// the veth's host end and the published port live there, so the machine's
// own network is never touched.
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfs } from '@nsk/rootfs';
import { detectLayout, planLimits, type Limits } from '@nsk/cgroup';
import { Handle, connectFrom, netnsNew, type Netns } from '@nsk/net';
import type { ExitStatus } from '@nsk/clone';
// @nsk/container is not (yet) a dependency of the workbook: its sources, by path.
import { capabilityNames, prepare, start, type Container, type ContainerSpec, type Prepared } from '@nsk/container';
import { defineChapter } from '../../src/chapter.ts';
import { scratchDir } from '../../src/lab.ts';

export const PAGE = '<h1>hello from everything together</h1>\n';
export const HOST_PORT = 8080;
export const LIMITS = { memory: 64 << 20, cpus: 0.5, pidsLimit: 32 } as const;

/** A running web container, its stand-in host, and how to end both. */
export interface Web {
  readonly container: Container;
  readonly prepared: Prepared;
  readonly spec: ContainerSpec;
  /** The network namespace that plays the host. */
  readonly host: Netns;
  /** Leases and the container's /etc files live here (networkHost.stateDir). */
  readonly stateDir: string;
  readonly rootfs: string;
  /** Stops the container if it still runs, then removes the stand-in host and the scratch directory. */
  dispose(): Promise<void>;
}

/**
 * Starts busybox httpd as PID 1 of a container with nsk's defaults (every
 * namespace, Docker's 14 capabilities, no_new_privs, the default seccomp
 * profile), cgroup limits, and a bridge in a stand-in host with port 8080
 * published to the container's 80.
 */
export async function startWeb(name = `web-${process.pid}`): Promise<Web> {
  const dir = scratchDir('nsk-workbook-together-');
  const host = netnsNew();
  let container: Container | undefined;
  const dispose = async () => {
    if (container && container.kill('SIGKILL')) await container.exited;
    host.close();
    dir.dispose();
  };
  try {
    const h = Handle.open({ netns: host.fd });
    try { h.linkSetUp('lo'); } finally { h.close(); }
    const rootfs = busyboxRootfs(join(dir.path, 'rootfs'));
    writeFileSync(join(rootfs, 'var/www/index.html'), PAGE);
    // Present in the rootfs, so the network's own are bound over them.
    writeFileSync(join(rootfs, 'etc/hosts'), '');
    writeFileSync(join(rootfs, 'etc/resolv.conf'), '');
    const stateDir = join(dir.path, 'net');
    const spec: ContainerSpec = {
      name,
      rootfs,
      hostname: 'web',
      command: ['httpd', '-f', '-p', '80', '-h', '/var/www'],
      ...LIMITS,
      network: 'bridge',
      publish: [{ host: HOST_PORT, container: 80 }],
      networkHost: { netns: host.fd, stateDir, bridge: 'nsk0', subnet: '10.88.0.0/16' },
      stdio: [null, null, null],
    };
    const prepared = prepare(spec);
    container = await start(prepared);
    return { container, prepared, spec, host, stateDir, rootfs, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** The steps of explain() that show the order, one line each (the first of each kind). */
export const MILESTONES: ReadonlyArray<[string, RegExp]> = [
  ['clone: the new namespaces', /^clone\(/],
  ['the parent wires the network while the child waits', /^\s*parent: network/],
  ['join the cgroups', /cgroup\.procs/],
  ['private mounts', /MS_PRIVATE\|MS_REC/],
  ['/proc of its own pid namespace', /mount\("proc"/],
  ['read-only /sys', /mount\("sysfs".*MS_RDONLY/],
  ['pivot_root', /pivot_root\(/],
  ['mask /proc paths', /# mask \/proc\//],
  ['hostname', /sethostname\(/],
  ['cgroup namespace', /unshare\(CLONE_NEWCGROUP\)/],
  ['bounding set', /PR_CAPBSET_DROP/],
  ['user and groups', /setresuid\(/],
  ['capabilities', /capset\(/],
  ['no_new_privs', /PR_SET_NO_NEW_PRIVS/],
  ['seccomp', /seccomp\(SECCOMP_SET_MODE_FILTER/],
  ['execve', /execve\("\/bin\/httpd"/],
];

export interface Composition {
  /** The head of explain(): what the container is. */
  head: string[];
  /** For each milestone: its label, its index in the plan (-1 if missing), the line. */
  steps: { label: string; index: number; line: string }[];
  /** Lines in the whole plan. */
  total: number;
}

/** An excerpt of `prepared.explain()`: its head and the first line of each milestone, in the plan's order. */
export function composition(prepared: Prepared): Composition {
  const text = prepared.explain();
  const lines = text.split('\n');
  const blank = lines.indexOf('');
  const head = lines.slice(0, blank);
  const steps = MILESTONES.map(([label, re]) => {
    const index = lines.findIndex((l) => re.test(l));
    return { label, index, line: index < 0 ? '' : lines[index]!.replace(/\s+#.*$/, '') };
  });
  return { head, steps, total: lines.length };
}

/** One of the limit files nsk wrote, read back from the kernel. */
export interface LimitFile { path: string; wanted: string; value: string }

/** The files the container's limits became on this host, each read back from its group. */
export function limitFiles(cgroupPath: string, limits: Limits): LimitFile[] {
  const layout = detectLayout();
  const plan = planLimits(layout, limits);
  const out: LimitFile[] = [];
  for (const w of plan.v1) {
    const h = layout.v1.find((x) => x.controllers.includes(w.controller));
    if (!h) continue;
    const path = join(h.mountPoint, cgroupPath, w.file);
    out.push({ path, wanted: w.value, value: existsSync(path) ? readFileSync(path, 'utf8').trim() : '(missing)' });
  }
  for (const w of plan.v2) {
    const path = join(layout.v2!.mountPoint, cgroupPath, w.file);
    out.push({ path, wanted: w.value, value: existsSync(path) ? readFileSync(path, 'utf8').trim() : '(missing)' });
  }
  return out;
}

/** The limits a spec asks for, as @nsk/cgroup names them (what @nsk/container gives it). */
export function limitsOf(l: typeof LIMITS): Limits {
  return { memory: { max: l.memory }, cpu: { quota: Math.round(l.cpus * 100000), period: 100000 }, pids: { max: l.pidsLimit } };
}

export interface Confinement {
  /** /proc/PID/status of the server, read by the host. */
  status: Record<string, string>;
  /** CapEff decoded. */
  capabilities: string[];
  /** Namespace kind → [host's inode, the server's inode]. */
  namespaces: Record<string, [number, number]>;
  /** /proc/PID/cgroup of the server, as the host sees it. */
  cgroup: string;
}

const NS_FILES = ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup', 'user', 'time'] as const;
const inode = (pid: number | 'self', f: string) => Number(/\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/${f}`))![1]);

/** What the host sees of the server process: its capabilities, no_new_privs, seccomp mode, namespaces, groups. */
export function confinement(pid: number): Confinement {
  const status: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(Cap\w+|NoNewPrivs|Seccomp|Seccomp_filters):\s*(.*)$/.exec(line);
    if (m) status[m[1]!] = m[2]!;
  }
  const namespaces: Record<string, [number, number]> = {};
  for (const f of NS_FILES) namespaces[f] = [inode('self', f), inode(pid, f)];
  return { status, capabilities: capabilityNames(BigInt(`0x${status.CapEff}`)), namespaces, cgroup: readFileSync(`/proc/${pid}/cgroup`, 'utf8') };
}

/** One HTTP/1.0 GET of `path` on 127.0.0.1:port, from the namespace `ns` (its socket is made there). '' when nothing answers. */
export function httpGet(ns: Netns, port: number, path = '/'): Promise<string> {
  return new Promise((resolve) => {
    const s = connectFrom(ns.fd, '127.0.0.1', port);
    let d = '';
    s.setTimeout(3000, () => s.destroy());
    s.on('connect', () => s.write(`GET ${path} HTTP/1.0\r\nHost: localhost\r\n\r\n`));
    s.on('data', (c: Buffer) => { d += c.toString(); });
    s.on('close', () => resolve(d));
    s.on('error', () => {});
  });
}

/** httpGet until the server answers (it may still be starting), at most `ms`. */
export async function fetchPage(ns: Netns, port = HOST_PORT, ms = 5000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await httpGet(ns, port);
    if (r.startsWith('HTTP/') || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** What exists of the container outside it. */
export interface Traces {
  /** Links in the stand-in host. */
  hostLinks: string[];
  /** Leases held on the bridge. */
  leases: string[];
  /** The container's /etc/hosts and resolv.conf directory. */
  netFiles: boolean;
  /** Its group, in each hierarchy. */
  cgroups: string[];
  /** PID 1 still there. */
  alive: boolean;
  /** The published port answers from the stand-in host. */
  portAnswers: boolean;
}

/** Looks for everything the container made outside itself. */
export async function traces(web: Web): Promise<Traces> {
  const h = Handle.open({ netns: web.host.fd });
  let hostLinks: string[];
  try { hostLinks = h.linkList().map((l) => l.name); } finally { h.close(); }
  const leasesFile = join(web.stateDir, 'nsk0', 'leases.json');
  const leases = existsSync(leasesFile) ? Object.keys((JSON.parse(readFileSync(leasesFile, 'utf8')) as { leases: object }).leases) : [];
  const layout = detectLayout();
  const roots = [...layout.v1.map((x) => x.mountPoint), ...(layout.v2 ? [layout.v2.mountPoint] : [])];
  const cgroups = roots.map((r) => join(r, `nsk-${web.container.name}`)).filter((p) => existsSync(p));
  const netFiles = existsSync(join(web.stateDir, 'containers', web.container.name));
  let alive = false;
  try { alive = readFileSync(`/proc/${web.container.pid}/stat`, 'utf8').split(' ')[2] !== 'Z'; } catch { /* gone */ }
  return { hostLinks, leases, netFiles, cgroups, alive, portAnswers: (await httpGet(web.host, HOST_PORT)) !== '' };
}

export interface Stopped {
  /** PID 1 still ran after SIGTERM and the grace period (it has no SIGTERM handler: pid_namespaces(7)). */
  ignoredTerm: boolean;
  status: ExitStatus;
  /** Milliseconds from the first signal to `exited` (every cleanup done). */
  ms: number;
}

/** `docker stop`: SIGTERM, a grace period, then SIGKILL; waits until every cleanup is done. */
export async function stop(c: Container, graceMs = 1000): Promise<Stopped> {
  const t0 = performance.now();
  c.kill('SIGTERM');
  const done = await Promise.race([c.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), graceMs))]);
  if (!done) c.kill('SIGKILL');
  const status = await c.exited;
  return { ignoredTerm: !done, status, ms: performance.now() - t0 };
}

/** Everything the chapter shows, from start to stop. */
export interface Together {
  composition: Composition;
  state: ReturnType<Container['state']>;
  limits: LimitFile[];
  confinement: Confinement;
  http: string;
  during: Traces;
  stopped: Stopped;
  after: Traces;
}

export async function together(): Promise<Together> {
  const web = await startWeb();
  try {
    const c = web.container;
    const result = {
      composition: composition(web.prepared),
      state: c.state(),
      limits: limitFiles(c.state().cgroup!, limitsOf(LIMITS)),
      confinement: confinement(c.pid),
      http: await fetchPage(web.host),
      during: await traces(web),
    };
    const stopped = await stop(c);
    return { ...result, stopped, after: await traces(web) };
  } finally {
    await web.dispose();
  }
}

/** Namespace kinds and whether the server's differs from the host's. */
export function namespaceTable(ns: Confinement['namespaces']): string {
  return Object.entries(ns).map(([k, [h, s]]) => `${k.padEnd(7)} ${String(h).padEnd(11)} ${String(s).padEnd(11)} ${h === s ? 'shared' : 'its own'}`).join('\n');
}

const httpHead = (r: string) => {
  const [head, body] = [r.slice(0, r.indexOf('\r\n\r\n')), r.slice(r.indexOf('\r\n\r\n') + 4)];
  return `${head.split('\r\n').join('\n')}\n\n${body.trim()}`;
};

export default defineChapter({
  n: 13,
  slug: 'together',
  title: 'Everything together',
  titleKo: '모두 함께',
  async run(show) {
    show.say('Every chapter so far added one piece. @nsk/container puts them all together, in the order the kernel needs, with the defaults a Docker user expects. Here it runs busybox httpd with a memory, CPU and pids limit, on a bridge, with port 8080 of "the host" published to the container\'s port 80. A throwaway network namespace plays the host, so this machine\'s network is left alone.');
    show.code(`start({
  rootfs, hostname: 'web', command: ['httpd', '-f', '-p', '80', '-h', '/var/www'],
  memory: 64 << 20, cpus: 0.5, pidsLimit: 32,
  network: 'bridge', publish: [{ host: 8080, container: 80 }],
  networkHost: { netns: host.fd, stateDir, bridge: 'nsk0', subnet: '10.88.0.0/16' },
})   // seccomp 'default', Docker's 14 capabilities, no_new_privs: the defaults`);
    const r = await together();

    show.step('The composition order: prepare(spec).explain()');
    show.code(r.composition.head.join('\n'));
    const cut = (l: string, n: number) => (l.length > n ? `${l.slice(0, n - 1)}…` : l.padEnd(n));
    show.code(r.composition.steps.map((s) => `${cut(s.line, 84)}  # ${s.label}`).join('\n'));
    show.say(`${r.composition.total} lines in all; these are the first of each kind, in the plan's order. Each step needs what the one before gave or must come before what the next takes away: the groups are joined before any mount, pivot_root before the masks (they cover the container's own /proc), the hostname while CAP_SYS_ADMIN is still there, the capabilities after every privileged step, seccomp last before execve.`);

    show.step('The limits, in the cgroup files');
    show.code(r.limits.map((l) => `${l.path} = ${l.value}`).join('\n'));
    show.say(`The container's group, ${r.state.cgroup}, in every hierarchy — /proc/PID/cgroup of the server, read by the host:`);
    show.code(r.confinement.cgroup.trim());

    show.step('What the kernel says of the server, from the host: /proc/PID/status');
    const st = r.confinement.status;
    show.code(`CapEff:     ${st.CapEff}   (${r.confinement.capabilities.length}: ${r.confinement.capabilities.map((c) => c.slice(4)).join(' ')})\nCapBnd:     ${st.CapBnd}\nCapInh:     ${st.CapInh}   CapAmb: ${st.CapAmb}\nNoNewPrivs: ${st.NoNewPrivs}\nSeccomp:    ${st.Seccomp}   (2 = filter mode; ${st.Seccomp_filters} filter)`);
    show.code(`kind    host        server      \n${namespaceTable(r.confinement.namespaces)}`);
    show.say('Every namespace but user and time is its own. The user namespace is the host\'s, as with Docker by default: root inside is root, held back by the capability set, no_new_privs, seccomp, the masked paths and the device rules. (A rootless container adds a user namespace; the time namespace is for those who ask.)');

    show.step('An HTTP GET from the host, through the published port');
    show.sideBySide({
      host: `the stand-in host\nlinks: ${r.during.hostLinks.join(' ')}\nnsk0: 10.88.0.1/16, the gateway\nlease: ${r.during.leases.join(' ')}\nproxy: 0.0.0.0:${HOST_PORT} → ${r.state.network?.address}:80`,
      container: `${r.state.name}\neth0: ${r.state.network?.address}/16\nports: ${r.state.network?.ports.join(' ')}\nhttpd -f -p 80 -h /var/www, PID 1`,
    });
    show.say(`The host connects to its own 127.0.0.1:${HOST_PORT}; nsk's proxy there forwards the connection over the bridge to the container:`);
    show.code(httpHead(r.http));

    show.step('Stop it, and look again');
    show.say(`SIGTERM: ${r.stopped.ignoredTerm ? 'ignored — httpd, as PID 1, has no handler for it, and the kernel delivers to PID 1 only signals it handles' : 'it ended'}; then SIGKILL. Exit status ${r.stopped.status.status} (${r.stopped.status.signal ?? r.stopped.status.code}), everything removed ${r.stopped.ms.toFixed(0)} ms after the first signal.`);
    const row = (k: string, a: unknown, b: unknown) => `${k.padEnd(16)} ${String(a).padEnd(28)} ${String(b)}`;
    show.code([
      row('', 'while it ran', 'after stop'),
      row('stand-in links', r.during.hostLinks.join(' '), r.after.hostLinks.join(' ')),
      row('leases', r.during.leases.length, r.after.leases.length),
      row('/etc files', r.during.netFiles, r.after.netFiles),
      row('cgroup dirs', r.during.cgroups.length, r.after.cgroups.length),
      row('PID 1 alive', r.during.alive, r.after.alive),
      row('port 8080', r.during.portAnswers ? 'answers' : 'closed', r.after.portAnswers ? 'answers' : 'closed'),
    ].join('\n'));
    show.say('The veth died with the container\'s network namespace, the bridge went with its last user, the lease and the /etc files with the network feature\'s cleanup, the proxy stopped listening, and the groups were removed once they were empty. The mounts were never anywhere but in the container\'s own mount namespace, which ended with its last process.');
  },
});

