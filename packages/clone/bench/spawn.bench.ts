// How fast spawn() starts a container, against the physical floor.
//
// Every container is /bin/true in 7 new namespaces (user mount uts ipc pid
// net cgroup), root mapped to root (uid_map, setgroups, gid_map), as
// `unshare -Ur` does. Each figure is the best of 5 interleaved rounds (the
// least disturbed by whatever else the machine runs):
//
//   BENCH spawn-7ns   ms per container, started and reaped one after another.
//                     ours: spawn() + await exited from this live Node process.
//                     cfloor: bench/cfloor.c, the same clone loop in plain C.
//                     unshare: util-linux `unshare -Urmpfnui --fork /bin/true`,
//                     a whole process each, N of them in a shell loop / N.
//   BENCH spawn-rate  containers per second with 16 in flight at once.
//   BENCH spawn-rss   RSS growth of a Node process over 1000 spawns, in MiB,
//                     after 1000 warm-up spawns, with a GC before and after
//                     and V8's young generation pinned (see below).
//
// The aim: ours ≤ 1.3 × cfloor (ratio ≤ 1.3, rate ratio ≥ 0.77), below
// unshare, and under 5 MiB of growth. Run as root:
//   node --conditions=nsk-source --expose-gc bench/spawn.bench.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type Feature, type SpawnOptions } from '@nsk/clone';

const SEQ = 300;
const RATE = 1000;
const IN_FLIGHT = 16;
const RSS = 1000;
const ROUNDS = 5;
const UNSHARE = 'unshare -Urmpfnui --fork /bin/true';

// Tools: install only what is missing.
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
if (!has('gcc') || !has('unshare')) {
  execFileSync('sh', ['-c', 'apt-get update && apt-get install -y util-linux gcc libc6-dev'], { stdio: 'inherit' });
}

const dir = mkdtempSync(join(tmpdir(), 'nsk-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const cfloor = join(dir, 'cfloor');
execFileSync('gcc', ['-O2', '-o', cfloor, new URL('cfloor.c', import.meta.url).pathname], { stdio: 'inherit' });

const rootMap: Feature = {
  name: 'root-map',
  parent({ pid }) {
    writeFileSync(`/proc/${pid}/uid_map`, '0 0 1\n');
    writeFileSync(`/proc/${pid}/setgroups`, 'deny');
    writeFileSync(`/proc/${pid}/gid_map`, '0 0 1\n');
  },
};
const options: SpawnOptions = {
  argv: ['/bin/true'],
  namespaces: ['user', 'mount', 'uts', 'ipc', 'pid', 'net', 'cgroup'],
  features: [rootMap],
  stdio: [0, 1, 2],
};

async function one(): Promise<void> {
  const { code } = await (await spawn(options)).exited;
  if (code !== 0) throw new Error(`/bin/true exited ${code}`);
}

/** ms per container, one after another. */
async function oursSeq(n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await one();
  return (performance.now() - t) / n;
}

/** Containers per second, `k` in flight. */
async function oursRate(n: number, k: number): Promise<number> {
  let started = 0;
  const lane = async () => {
    while (started < n) {
      started++;
      await one();
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: k }, lane));
  return n / ((performance.now() - t) / 1000);
}

const floor = (...args: Array<string | number>) => Number(execFileSync(cfloor, args.map(String), { encoding: 'utf8' }));

function unshareSeq(n: number): number {
  const t = performance.now();
  execFileSync('sh', ['-c', `i=0; while [ $i -lt ${n} ]; do ${UNSHARE} || exit 1; i=$((i+1)); done`], { stdio: 'inherit' });
  return (performance.now() - t) / n;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

if (process.argv.includes('--rss')) {
  await oursSeq(RSS);
  gc();
  const rss0 = process.memoryUsage().rss;
  await oursSeq(RSS);
  gc();
  console.log(((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(2));
  process.exit(0);
}

// Warm up: JIT, page cache, the region pool, the kernel's namespace caches.
await oursSeq(20);
floor('seq', 20);
unshareSeq(5);
await oursRate(100, IN_FLIGHT);

const seq = { ours: [] as number[], cfloor: [] as number[], unshare: [] as number[] };
const rate = { ours: [] as number[], cfloor: [] as number[] };
for (let r = 0; r < ROUNDS; r++) {
  seq.ours.push(await oursSeq(SEQ));
  seq.cfloor.push(floor('seq', SEQ));
  seq.unshare.push(unshareSeq(SEQ));
  rate.ours.push(await oursRate(RATE, IN_FLIGHT));
  rate.cfloor.push(floor('rate', RATE, IN_FLIGHT));
}

// RSS is measured in a process of its own whose young generation is pinned
// (--min/--max-semi-space-size): V8 otherwise grows it in steps of several
// MiB under allocation pressure, once, whatever allocates — heapUsed stays
// flat — and that one-time growth would read as growth per child. The first
// 1000 spawns touch every page of it; the next 1000 are measured.
const growth = Number(execFileSync(process.execPath, [
  '--conditions=nsk-source', '--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16',
  '--no-warnings=ExperimentalWarning', new URL(import.meta.url).pathname, '--rss',
], { encoding: 'utf8' }).trim());

const [os, fs, us] = [Math.min(...seq.ours), Math.min(...seq.cfloor), Math.min(...seq.unshare)];
const [or, fr] = [Math.max(...rate.ours), Math.max(...rate.cfloor)];
console.log(`BENCH spawn-7ns ours=${os.toFixed(3)} cfloor=${fs.toFixed(3)} unshare=${us.toFixed(3)} ratio=${(os / fs).toFixed(2)}`);
console.log(`BENCH spawn-rate ours=${or.toFixed(1)} cfloor=${fr.toFixed(1)} ratio=${(or / fr).toFixed(2)}`);
console.log(`BENCH spawn-rss ours=${growth.toFixed(2)} limit=5 ratio=${(growth / 5).toFixed(2)}`);
