// How fast a layer unpacks, against GNU tar unpacking the same file.
//
// The layer is generated here with tar-stream: 300 directories of 100 small
// files (0.5–8.5 KiB, the bulk of a distro image), a symlink and a hard link
// per directory, and 8 files of 24 MiB — about 360 MB of plain tar. Each
// round, `tar -xpf layer.tar -C fresh/ --numeric-owner` (as root: same owner,
// same permissions, like ours) and extractTar(createReadStream(layer)) unpack
// it into fresh directories on the same filesystem, in alternating order;
// the figure is the median wall time of 7 rounds, after one warm-up round
// each (CPU times, user+system, are printed too: on a busy machine they
// vary less than wall time).
//
// The filesystem is /dev/shm (tmpfs) unless NSK_BENCH_DIR names another.
// tmpfs leaves the least kernel time to hide our own overhead in, and the
// least noise from the disk. On ext4, inode allocation slows down for
// minutes after a large delete (ext4's recently_deleted()), so there trees
// are kept until the end and the filesystem is synced (untimed) before each
// run: no run pays for another's cleanup or writeback.
// Prints one line:
//   BENCH untar ours=<ms>ms gnutar=<ms>ms ratio=<ours/gnutar> …
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import tar from 'tar-stream';
import { extractTar } from '../src/layer/index.ts';

const ROUNDS = 7;
const DIRS = 300;
const FILES = 100;
const BIG = 8;
const BIG_SIZE = 24 << 20;

const parent = process.env.NSK_BENCH_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
const base = mkdtempSync(join(parent, 'nsk-untar-bench-'));
const fsType = spawnSync('stat', ['-f', '-c', '%T', base], { encoding: 'utf8' }).stdout.trim() || 'unknown';
const onTmpfs = fsType === 'tmpfs';
const layer = join(base, 'layer.tar');

async function generate(): Promise<number> {
  const pack = tar.pack();
  const out = createWriteStream(layer);
  pack.pipe(out);
  const blob = Buffer.alloc(1 << 20);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 2654435761) >>> 24; // incompressible enough, deterministic
  const mtime = new Date(1_700_000_000_000);
  const add = (h: Parameters<typeof pack.entry>[0], body?: Buffer) => new Promise<void>((resolve, reject) => body ? pack.entry(h, body, (err) => (err ? reject(err) : resolve())) : pack.entry(h, (err) => (err ? reject(err) : resolve())));
  let entries = 0;
  for (let d = 0; d < DIRS; d++) {
    await add({ name: `usr/share/d${d}/`, type: 'directory', mode: 0o755, mtime });
    for (let f = 0; f < FILES; f++) {
      const size = 512 + (((d * FILES + f) * 7919) % 8192);
      const off = (d * 131 + f * 17) % (blob.length - size);
      await add({ name: `usr/share/d${d}/f${f}.txt`, mode: 0o644, mtime, uid: 0, gid: 0 }, blob.subarray(off, off + size));
    }
    await add({ name: `usr/share/d${d}/link`, type: 'symlink', linkname: 'f0.txt', mtime });
    await add({ name: `usr/share/d${d}/hard`, type: 'link', linkname: `usr/share/d${d}/f1.txt`, mtime });
    entries += FILES + 3;
  }
  for (let i = 0; i < BIG; i++) {
    const e = pack.entry({ name: `opt/big/b${i}.bin`, mode: 0o755, mtime, size: BIG_SIZE });
    for (let o = 0; o < BIG_SIZE; o += blob.length) if (!e.write(blob)) await once(e, 'drain');
    e.end(Buffer.alloc(0));
    entries++;
  }
  pack.finalize();
  await once(out, 'close');
  return entries;
}

let serial = 0;
/** A new empty directory; on a disk, after writing back what earlier runs left dirty (not timed). */
function fresh(): string {
  if (!onTmpfs) spawnSync('sync', ['-f', base]);
  const dir = join(base, `x${serial++}`);
  mkdirSync(dir);
  return dir;
}

/** On tmpfs a tree is removed right away (memory); elsewhere at the end. */
function done(dir: string): void {
  if (onTmpfs) rmSync(dir, { recursive: true, force: true });
}

/** CPU time (ms) of this process's reaped children: /proc/self/stat cutime + cstime, in clock ticks (USER_HZ 100). */
function childCpu(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}

interface Run { wall: number; cpu: number }

function gnutar(): Run {
  const dir = fresh();
  const c = childCpu();
  const t = performance.now();
  const r = spawnSync('tar', ['-xpf', layer, '-C', dir, '--numeric-owner'], { encoding: 'utf8' });
  const wall = performance.now() - t;
  const cpu = childCpu() - c;
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  done(dir);
  return { wall, cpu };
}

async function ours(): Promise<Run> {
  const dir = fresh();
  const c = process.cpuUsage();
  const t = performance.now();
  await extractTar(createReadStream(layer, { highWaterMark: 1 << 20 }), dir, { whiteouts: 'overlay' });
  const wall = performance.now() - t;
  const used = process.cpuUsage(c);
  done(dir);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

try {
  const entries = await generate();
  const size = statSync(layer).size;
  await ours();
  gnutar();
  const o: Run[] = [];
  const g: Run[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) { g.push(gnutar()); o.push(await ours()); }
    else { o.push(await ours()); g.push(gnutar()); }
  }
  const om = median(o.map((r) => r.wall));
  const gm = median(g.map((r) => r.wall));
  const oc = median(o.map((r) => r.cpu));
  const gc = median(g.map((r) => r.cpu));
  const list = (rs: Run[]) => rs.map((r) => `${r.wall.toFixed(0)}/${r.cpu.toFixed(0)}`).join(' ');
  process.stderr.write(`wall/cpu ms: ours ${list(o)}; gnutar ${list(g)}\n`);
  const mbps = (ms: number) => (size / 1e6 / (ms / 1000)).toFixed(0);
  console.log(`BENCH untar ours=${om.toFixed(0)}ms gnutar=${gm.toFixed(0)}ms ratio=${(om / gm).toFixed(2)} ours_mbps=${mbps(om)} gnutar_mbps=${mbps(gm)} cpu_ours=${oc.toFixed(0)}ms cpu_gnutar=${gc.toFixed(0)}ms cpu_ratio=${(oc / gc).toFixed(2)} size=${(size / 1e6).toFixed(0)}MB entries=${entries} runs=${ROUNDS} fs=${fsType}`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
