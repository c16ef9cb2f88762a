// BENCH run-rate: containers per second started and reaped to completion,
// 4 at a time.
//
//   ours — one long-lived Node process calling @nsk/container's run() with
//          its full defaults (busybox rootfs, every namespace, a cgroup,
//          the default seccomp profile, Docker's capabilities, masked and
//          read-only paths), except the network: `none`, a namespace with
//          only lo, because crun and runc configure no network either; a
//          bridge + veth would be nsk's work alone.
//   crun, runc — `<runtime> run` invoked once per container by xargs -P 4
//          (a driver far lighter than Node), on a bundle over the same
//          rootfs with the same namespaces, capabilities, masked paths and
//          no_new_privs, and nsk's default seccomp profile in OCI form,
//          which each runtime compiles with libseccomp on every start, as it
//          does for every Docker container. Each creates and removes a
//          cgroup per container (see legacyCgroupViewForRuntimes).
//
// Prints `BENCH run-rate ours=<containers/s> crun=… runc=… ratio=<ours/crun>`.
import { availableParallelism } from 'node:os';
import { busyboxRootfs } from '@nsk/rootfs';
import { run } from '../src/index.ts';
import { cgroupDirs, fmt, pool, removeNewCgroups, tempDir } from './harness.ts';
import { ensureRuntimes, RUNTIMES, runtimeRun, writeBundle } from './oci.ts';
import { RuntimeHost } from './runtime-host.ts';

const PARALLEL = 4;
const COUNT = Number(process.env.NSK_BENCH_COUNT ?? 200);
const ROUNDS = 5;
const WARMUP = 20;
const perRound = Math.ceil(COUNT / ROUNDS);

const runtimes = ensureRuntimes();
const base = tempDir('nsk-bench-rate');
const rootfs = busyboxRootfs(`${base}/rootfs`);
const bundle = writeBundle(`${base}/bundle`, { rootfs, args: ['/bin/true'] });
const state = tempDir('nsk-bench-rate-state');
const cgroupsBefore = cgroupDirs();
const tag = `nskrate${process.pid}`;
const host = await RuntimeHost.start();

let serial = 0;
/** ours: in this process, nothing between the library and the kernel. */
function ours(n: number): Promise<number> {
  return pool(n, PARALLEL, async () => {
    const s = await run({ name: `${tag}-${serial++}`, rootfs, command: ['/bin/true'], network: 'none', stdio: [null, null, null] });
    if (s.status !== 0) throw new Error(`nsk container: exit ${s.status}`);
  });
}
/** theirs: xargs -P starts `<runtime> run` once per container, at most PARALLEL at once. */
function theirs(runtime: string, n: number): Promise<number> {
  const [bin, ...args] = runtimeRun(runtime, state, bundle, `${tag}-${serial}-{}`);
  serial += n;
  return host.time({ shell: `seq 1 ${n} | xargs -P ${PARALLEL} -I{} ${bin} ${args.join(' ')} >/dev/null` });
}

// Rounds alternate ours and theirs, so a machine busy with other work
// slows them alike.
const ms: Record<string, number> = { ours: 0, crun: 0, runc: 0 };
try {
  await ours(WARMUP);
  for (const r of RUNTIMES) await theirs(runtimes[r], WARMUP);
  for (let round = 0; round < ROUNDS; round++) {
    ms.ours! += await ours(perRound);
    for (const r of RUNTIMES) ms[r]! += await theirs(runtimes[r], perRound);
  }
} finally {
  await host.close();
}
const rate = (k: string) => (perRound * ROUNDS * 1000) / ms[k]!;

const left = removeNewCgroups(cgroupsBefore, [tag]);
console.log(`BENCH run-rate ours=${fmt(rate('ours'))} crun=${fmt(rate('crun'))} runc=${fmt(rate('runc'))} ratio=${(rate('ours') / rate('crun')).toFixed(2)}`);
console.log(`# containers/s over ${perRound * ROUNDS} containers each (${ROUNDS} alternating rounds, after ${WARMUP} warm-up), ${PARALLEL} at a time, ${availableParallelism()} cpus; ${host.layout}`);
if (left.length) console.log(`# cgroups left behind (removed now): ${left.join(' ')}`);
