// One scenario per class of container escape. Each runs the attack twice:
// `nsk` — in an nsk container with its defaults; `control` — with the
// defence under test turned off (a spec that relaxes it, or a bare process
// over the same rootfs), so that a test can tell "defended" from "the
// attack never worked anyway". A scenario runs in the test process (root)
// or, with `rootless`, in hardening-fixture.ts as nobody, and returns plain
// data for the test to assert on.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { cgroup } from '@nsk/cgroup';
import { Plan } from '@nsk/clone';
import { MASKED_PATHS, READONLY_PATHS } from '@nsk/mount';
import { CAPABILITY_NAMES } from '../src/index.ts';
import { bare, inNsk, PROBE, SUID_PROBE, sh, statusFields, type Lab, type Outcome } from './hardening-lab.ts';
import { parseProbe } from './hardening-payload.ts';

export type Scenario = (lab: Lab, rootless: boolean, arg: Record<string, unknown>) => Promise<unknown>;

/** The parts of an outcome a test needs: the probe's lines, the rest of stdout, the status, stderr. */
export interface Seen {
  status: number;
  probe: Record<string, string>;
  lines: string[];
  stderr: string;
  seen?: unknown;
}

const seen = (o: Outcome): Seen => ({
  status: o.status,
  probe: parseProbe(o.stdout),
  lines: o.stdout.split('\n').filter((l) => l && !/^[a-z0-9_]+=\S+$/.test(l)),
  stderr: o.stderr,
  ...(o.seen === undefined ? {} : { seen: o.seen }),
});

/** What a rejected start() looked like, for a scenario that expects one. */
export interface Refused { refused: { name: string; message: string; code?: string; field?: string } }
async function orRefused<T>(f: () => Promise<T>): Promise<T | Refused> {
  try {
    return await f();
  } catch (e) {
    const err = e as Error & { code?: string; field?: string };
    return { refused: { name: err.name, message: err.message, ...(err.code ? { code: err.code } : {}), ...(err.field ? { field: err.field } : {}) } };
  }
}

/**
 * Every capability this process has (its bounding set): what capAdd ALL
 * means, spelled out — a host may lack some (this one lacks
 * CAP_SYS_RESOURCE), and asking for one it lacks is refused.
 */
export function ownCapabilities(): string[] {
  const mask = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
  return CAPABILITY_NAMES.filter((_, i) => ((mask >> BigInt(i)) & 1n) === 1n);
}

/** Relaxes both the capability set and the seccomp filter: root's full powers, as `--privileged` gives them (without the devices). */
const PRIVILEGED = { capAdd: ownCapabilities(), seccomp: 'unconfined' } as const;

/** mountinfo lines (fields) printed by `cat /proc/self/mountinfo`, by mount point. */
export function mountsIn(lines: readonly string[]): Record<string, { fstype: string; options: string[] }> {
  const out: Record<string, { fstype: string; options: string[] }> = {};
  for (const l of lines) {
    const f = l.split(' ');
    const dash = f.indexOf('-');
    if (dash < 6) continue;
    out[f[4]!] = { fstype: f[dash + 1]!, options: f[5]!.split(',') };
  }
  return out;
}

/** Masked and read-only paths this kernel has (the others cannot be attacked here). */
export function hostPaths() {
  const kind = (p: string) => (existsSync(p) ? (statSync(p).isDirectory() ? 'dir' : 'file') : null);
  return {
    maskedFiles: MASKED_PATHS.filter((p) => kind(p) === 'file'),
    maskedDirs: MASKED_PATHS.filter((p) => kind(p) === 'dir'),
    readonly: READONLY_PATHS.filter((p) => kind(p) !== null),
    // Files whose open for writing is the attack: sysctls (core_pattern is
    // the classic: a pipe there runs as root on the host at the next core
    // dump), SysRq, IRQ affinity. Opened only — never written.
    writable: ['/proc/sysrq-trigger', '/proc/sys/kernel/core_pattern', '/proc/sys/kernel/hostname', '/proc/sys/vm/drop_caches', '/proc/irq/default_smp_affinity']
      .filter((p) => kind(p) === 'file'),
  };
}

const keyOf = (p: string) => p.replace(/^\//, '').replace(/[^a-z0-9]+/gi, '_').toLowerCase();

/** Starts a host process for the container to attack: `sleep 30`, as whoever runs this. */
function victim(): { pid: number; stop(): Promise<void> } {
  const p = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  return {
    pid: p.pid!,
    stop: () => new Promise((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) { resolve(); return; }
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    }),
  };
}

export const SCENARIOS: Record<string, Scenario> = {
  /** (a) mount(2) and umount(2): new filesystems, remounting /sys and /proc/sys writable, unmounting a mask. */
  async mounts(lab, rootless) {
    const attempts = [
      PROBE, 'mount',
      'tmpfs', 'tmpfs', '/mnt', 'tmpfs',
      'proc', 'proc', '/mnt', 'proc',
      'sys_rw', '-', '/sys', 'remount-rw',
      'sys_bind_rw', '-', '/sys', 'bind-remount-rw',
      'proc_sys_bind_rw', '-', '/proc/sys', 'bind-remount-rw',
      'umount_proc_sys', '-', '/proc/sys', 'umount',
      'umount_mask', '-', '/proc/keys', 'umount',
    ];
    const script = `${attempts.join(' ')}; cat /proc/self/mountinfo`;
    return {
      nsk: seen(await inNsk(lab, rootless, {}, sh(script))),
      control: seen(await inNsk(lab, rootless, PRIVILEGED, sh(script))),
    };
  },

  /** (b) /proc: masked files read empty, read-only files refuse writers, no host process or its root in reach. */
  async proc(lab, rootless) {
    const paths = hostPaths();
    const script = (proc: string) => [
      `${PROBE} openw ${paths.writable.map((p) => `w_${keyOf(p)} ${p.replace(/^\/proc/, proc)}`).join(' ')}`,
      `${PROBE} readn ${paths.maskedFiles.map((p) => `r_${keyOf(p)} ${p.replace(/^\/proc/, proc)}`).join(' ')}`,
      `test -e ${proc}/${process.pid} && echo host_pid=VISIBLE || echo host_pid=ABSENT`,
      `s=ABSENT; for p in ${proc}/[0-9]*; do test -e "$p/root${lab.secret}" && s=FOUND; done; echo secret=$s`,
      `echo proc1_root_entries=$(ls ${proc}/1/root/ 2>/dev/null | tr '\\n' ',')`,
      `cat ${proc}/self/mountinfo`,
    ].join('; ');
    // The control: no pid namespace, nothing masked. Rootless, a user
    // namespace cannot mount the host pid namespace's proc: the host's
    // /proc is bound at /mnt instead.
    const control = rootless
      ? await bare(lab, true, sh(script('/mnt')), { rootfs: { volumes: [{ source: '/proc', target: '/mnt', recursive: true }] } })
      : await bare(lab, false, sh(script('/proc')));
    return { paths, nsk: seen(await inNsk(lab, rootless, {}, sh(script('/proc')))), control: seen(control) };
  },

  /** (c) Devices: mknod(2) of the host's disk and open(2) of it; what /dev holds. */
  async devices(lab, rootless, arg) {
    const { major, minor } = arg as { major: number; minor: number };
    const script = [
      `${PROBE} mknod dev /dev/nsk-disk ${major} ${minor}`,
      `${PROBE} mknod tmp /tmp/nsk-disk ${major} ${minor}`,
      'echo "dev_entries=$(ls -A /dev | tr \'\\n\' ,)"',
      // busybox stat: %t/%T are the major/minor in hex.
      'for f in $(find /dev -type b -o -type c); do echo "node $(stat -c \'%F %t:%T %n\' $f)"; done',
    ].join('; ');
    return {
      nsk: seen(await inNsk(lab, rootless, {}, sh(script))),
      // Defence in depth: only the seccomp filter off (which refuses
      // mknod(2) of devices); what remains is Docker's device cgroup rule.
      unconfined: seen(await inNsk(lab, rootless, { seccomp: 'unconfined' }, sh(script))),
      control: seen(await bare(lab, rootless, sh(script))),
    };
  },

  /** (d) Capabilities and no_new_privs, as root and, rootful, as uid 1000 running a setuid-root program. */
  async capabilities(lab, rootless) {
    const status = "grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status";
    const out: Record<string, unknown> = {
      nsk: seen(await inNsk(lab, rootless, {}, sh(status))),
      control: seen(await inNsk(lab, rootless, { capAdd: ownCapabilities() }, sh(status))),
    };
    if (!rootless) {
      // A rootless container maps one uid (root): there is no other user to
      // become, and the setuid file's owner (host root) is not mapped, so
      // the kernel ignores its setuid bit anyway.
      out.user = seen(await inNsk(lab, false, { user: '1000:1000' }, sh(`${status}; ${SUID_PROBE} ids`)));
      const plan = new Plan();
      plan.setgroups([]);
      plan.setresgid(1000);
      plan.setresuid(1000);
      out.userControl = seen(await bare(lab, false, sh(`${status}; ${SUID_PROBE} ids`), { plan }));
    }
    return out;
  },

  /** (e) seccomp: the calls Docker's profile refuses, with harmless arguments. */
  async seccomp(lab, rootless) {
    const script = `grep -E '^(Seccomp|NoNewPrivs)' /proc/self/status; ${PROBE} syscalls`;
    return {
      nsk: seen(await inNsk(lab, rootless, {}, sh(script))),
      // Only the filter off: which calls the capabilities alone still stop.
      unconfined: seen(await inNsk(lab, rootless, { seccomp: 'unconfined' }, sh(script))),
      control: seen(await inNsk(lab, rootless, PRIVILEGED, sh(script))),
    };
  },

  /** (e) The "shocker": open_by_handle_at(2) of a host directory through a volume's filesystem. */
  async shocker(lab, rootless) {
    // The handle of the lab directory (holding host-secret), outside the
    // volume and outside the container's root.
    const [type, hex] = execFileSync(lab.probe, ['handle', lab.dir], { encoding: 'utf8' }).trim().split(' ') as [string, string];
    const spec = { volumes: [{ host: lab.vol, container: '/vol', readonly: true }] };
    const argv = [PROBE, 'shocker', '/vol', type, hex];
    return {
      nsk: seen(await inNsk(lab, rootless, spec, argv)),
      control: seen(await inNsk(lab, rootless, { ...spec, ...PRIVILEGED }, argv)),
    };
  },

  /** (f) cgroups: the namespace, cgroupfs mounts (release_agent), moving out of the group. */
  async cgroups(lab, rootless) {
    const script = [
      'sleep 0.3', // the host looks at /proc/PID/cgroup meanwhile
      'cat /proc/self/cgroup',
      `${PROBE} mount cg1 cgroup /mnt cgroup-v1-pids cg2 cgroup2 /mnt cgroup2`,
      `${PROBE} openw ${['/sys/fs/cgroup/pids/release_agent', '/sys/fs/cgroup/pids/cgroup.procs', '/sys/fs/cgroup/unified/cgroup.procs', '/sys/fs/cgroup/cgroup.procs'].map((p) => `w_${keyOf(p)} ${p}`).join(' ')}`,
      'cat /proc/self/cgroup',
    ].join('; ');
    const hostView = (pid: number) => readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
    return {
      host: hostView(process.pid),
      nsk: seen(await inNsk(lab, rootless, {}, sh(script), (c) => hostView(c.pid))),
      // Root's powers back: a cgroupfs mount works, but shows only the
      // container's own subtree (the namespace still holds).
      control: seen(await inNsk(lab, rootless, PRIVILEGED, sh(script), (c) => hostView(c.pid))),
      // No cgroup namespace: the container's own group, and the host's
      // paths, are in plain sight.
      bare: rootless ? null : seen(await bare(lab, false, sh(script), { features: [cgroup({ namespace: false })] })),
    };
  },

  /** (f) A pids limit holds a (bounded) fork bomb. */
  async forkbomb(lab, rootless) {
    const argv = [PROBE, 'forkn', '64'];
    return {
      nsk: await orRefused(async () => seen(await inNsk(lab, rootless, { pidsLimit: 16 }, argv))),
      control: seen(await inNsk(lab, rootless, {}, argv)),
    };
  },

  /** (g) The network namespace: none of the host's links, addresses or MACs inside. */
  async network(lab, rootless) {
    const script = 'for i in /sys/class/net/*; do echo "link ${i##*/} $(cat $i/address)"; done; ip -o addr | while read n name fam addr rest; do echo "addr $name $addr"; done';
    const host = {
      links: readdirSync('/sys/class/net').map((n) => ({ name: n, mac: readFileSync(`/sys/class/net/${n}/address`, 'utf8').trim() })),
      addrs: Object.values(networkInterfaces()).flat().filter((a) => a !== undefined).map((a) => a.address),
    };
    return {
      host,
      nsk: seen(await inNsk(lab, rootless, {}, sh(script))),
      control: seen(await inNsk(lab, rootless, { network: 'host' }, sh(script))),
    };
  },

  /** (h) The chroot-in-chroot escape with fchdir. */
  async chroot(lab, rootless) {
    const argv = [PROBE, 'chroot-escape', lab.secret];
    return {
      nsk: seen(await inNsk(lab, rootless, {}, argv)),
      // pivot_root replaced by chroot(2): the host's tree is still there to climb to.
      control: seen(await bare(lab, rootless, argv, { rootfs: { chroot: true } })),
    };
  },

  /** (i) Host processes: kill(2) and ptrace(2) of one, and /proc listing. */
  async pids(lab, rootless) {
    const v = victim();
    try {
      const script = (proc: string) => `${PROBE} ptrace ${v.pid}; echo "comms=$(cat ${proc}/[0-9]*/comm 2>/dev/null | tr ' ' _ | sort -u | tr '\\n' ,)"; echo "pids=$(cd ${proc} && ls -d [0-9]* | tr '\\n' ,)"`;
      const control = rootless
        ? await bare(lab, true, sh(script('/mnt')), { rootfs: { volumes: [{ source: '/proc', target: '/mnt', recursive: true }] } })
        : await bare(lab, false, sh(script('/proc')));
      const nsk = seen(await inNsk(lab, rootless, {}, sh(script('/proc'))));
      // Root's powers back, the pid namespace still there.
      const privileged = seen(await inNsk(lab, rootless, PRIVILEGED, sh(script('/proc'))));
      const alive = existsSync(`/proc/${v.pid}`) && readFileSync(`/proc/${v.pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
      return { victim: v.pid, victimAlive: alive, nsk, privileged, control: seen(control) };
    } finally {
      await v.stop();
    }
  },
};

/** The status fields of a probe run that printed /proc/self/status lines. */
export const statusOf = (s: Seen): Record<string, string> => statusFields(s.lines.join('\n'));
