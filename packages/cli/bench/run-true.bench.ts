// BENCH run-true: wall milliseconds of one container running /bin/true, as
// a whole process, started from here and waited for:
//
//   ours  — `node packages/cli/dist/bundle/nsk.mjs run --net none
//           --rootfs R -- /bin/true`: the package's published `nsk` bin
//           (scripts/bundle.ts, run by `pnpm bench` first), Node start-up
//           and module loading included. The same from the TypeScript
//           sources (`pnpm nsk …` in the repository) is printed beside it;
//   crun, runc — `<runtime> --root TMP run --bundle B ID` over the same
//           rootfs R (bundle: ../../container/bench/oci.ts — namespaces pid,
//           mount, uts, ipc, net, cgroup, no network configured, Docker's
//           capabilities, masked paths, nsk's default seccomp profile);
//   node0 — `node -e 0` on the same Node: the fixed cost of starting Node.
//
// ratio = (ours − node0) / crun: what nsk adds over an empty Node, against
// the whole of crun. Medians of RUNS rounds after WARMUP, each round
// running every command once in turn.
import { fileURLToPath } from 'node:url';
import { busyboxRootfs } from '@nsk/rootfs';
import { cgroupDirs, fmt, median, removeNewCgroups, tempDir, timeOnce } from '../../container/bench/harness.ts';
import { ensureRuntimes, runtimeRun, writeBundle } from '../../container/bench/oci.ts';
import { RuntimeHost } from '../../container/bench/runtime-host.ts';

const RUNS = Number(process.env.NSK_BENCH_RUNS ?? 30);
const WARMUP = 3;
const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const bin = fileURLToPath(new URL('../dist/bundle/nsk.mjs', import.meta.url));
const node = process.execPath;
const NODE_FLAGS = ['--conditions=nsk-source', '--no-warnings=ExperimentalWarning'];

const runtimes = ensureRuntimes();
const base = tempDir('nsk-bench-true');
const rootfs = busyboxRootfs(`${base}/rootfs`);
const bundle = writeBundle(`${base}/bundle`, { rootfs, args: ['/bin/true'] });
const state = tempDir('nsk-bench-true-state');
// Node's compile cache (the CLI turns it on) in a directory of this run,
// filled by the warm-up runs, as it would be on a user's machine.
const env = { ...process.env, NODE_COMPILE_CACHE: `${base}/compile-cache` };
const cold = { ...env, NODE_DISABLE_COMPILE_CACHE: '1' };
const cgroupsBefore = cgroupDirs();
const tag = `nsktrue${process.pid}`;

const nsk = [node, bin, 'run', '--net', 'none', '--rootfs', rootfs, '--', '/bin/true'];
const nskSource = [node, ...NODE_FLAGS, main, 'run', '--net', 'none', '--rootfs', rootfs, '--', '/bin/true'];
const nskHelp = [node, bin, '--help'];
const node0 = [node, '-e', '0'];

// One round: each command once, in turn, so that a machine busy with other
// work slows them alike. crun and runc are timed by the runtime host.
const times: Record<string, number[]> = { ours: [], node0: [], help: [], cold: [], source: [], crun: [], runc: [] };
const host = await RuntimeHost.start();
try {
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const round: Record<string, number> = {
      ours: timeOnce(nsk, { env }),
      node0: timeOnce(node0, { env }),
      help: timeOnce(nskHelp, { env }),
      crun: await host.time({ argv: runtimeRun(runtimes.crun, state, bundle, `${tag}-c${i}`) }),
      runc: await host.time({ argv: runtimeRun(runtimes.runc, state, bundle, `${tag}-r${i}`) }),
    };
    if (i % 3 === 0) { round.cold = timeOnce(nsk, { env: cold }); round.source = timeOnce(nskSource, { env }); }
    if (i >= WARMUP) for (const [k, v] of Object.entries(round)) times[k]!.push(v);
  }
} finally {
  await host.close();
}
const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<string, number>;
const left = removeNewCgroups(cgroupsBefore, [tag]);

console.log(`BENCH run-true ours=${fmt(m.ours!)} crun=${fmt(m.crun!)} runc=${fmt(m.runc!)} node0=${fmt(m.node0!)} ratio=${((m.ours! - m.node0!) / m.crun!).toFixed(2)}`);
console.log(`# medians of ${RUNS} rounds after ${WARMUP} warm-up; nsk --help (Node + the CLI's entry, no container) ${fmt(m.help!)} ms; nsk run without the compile cache ${fmt(m.cold!)} ms; from the TypeScript sources ${fmt(m.source!)} ms`);
console.log(`# ${host.layout}`);
if (left.length) console.log(`# cgroups left behind by the runtimes (removed now): ${left.join(' ')}`);
