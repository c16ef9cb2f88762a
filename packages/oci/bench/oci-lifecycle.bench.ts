// BENCH oci-lifecycle: ms for create + start + wait + delete of /bin/true
// from the same bundle (nsk's default-like config with the default seccomp
// profile), by nsk-runtime, crun and runc, interleaved round by round.
// Ours runs from this process's namespaces; crun and runc from
// RuntimeHost's (a legacy cgroup view: crun refuses this hybrid layout).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testRootfs } from '@nsk/testkit';
import { ensureRuntimes, writeBundle } from '../../container/bench/oci.ts';
import { fmt, median, tempDir, timeOnce } from '../../container/bench/harness.ts';
import { RuntimeHost } from '../../container/bench/runtime-host.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 8);
// The package's published bin (scripts/bundle.ts, run by `pnpm bench` first).
const ours = `${process.execPath} ${fileURLToPath(new URL('../dist/bundle/nsk-runtime.mjs', import.meta.url))}`;
const fromSource = fileURLToPath(new URL('../bin/nsk-runtime-dev', import.meta.url));
const bins = ensureRuntimes();
const rootfs = testRootfs();
const bundle = writeBundle(tempDir('nsk-oci-bench-bundle'), { rootfs, args: ['/bin/true'] });

/** create, start, wait for the pid (pid file) to end, delete: one shell line for every runtime. */
function lifecycle(bin: string, state: string, id: string): string {
  const pidFile = join(state, `${id}.pid`);
  return [
    `${bin} --root ${state} create --bundle ${bundle} --pid-file ${pidFile} ${id} </dev/null`,
    `${bin} --root ${state} start ${id}`,
    `p=$(cat ${pidFile}); while [ -e /proc/$p/stat ] && ! grep -q ') [ZX] ' /proc/$p/stat; do :; done`,
    `${bin} --root ${state} delete ${id}`,
  ].join(' && ');
}

const host = await RuntimeHost.start();
const times: Record<'ours' | 'source' | 'crun' | 'runc', number[]> = { ours: [], source: [], crun: [], runc: [] };
try {
  for (let i = 0; i < ROUNDS; i++) {
    const s = tempDir('nsk-oci-bench-state');
    times.ours.push(timeOnce(['/bin/sh', '-c', lifecycle(ours, s, `o${i}`)]));
    if (i % 2 === 0) times.source.push(timeOnce(['/bin/sh', '-c', lifecycle(fromSource, s, `s${i}`)]));
    times.crun.push(await host.time({ shell: lifecycle(bins.crun, s, `c${i}`) }));
    times.runc.push(await host.time({ shell: lifecycle(bins.runc, s, `r${i}`) }));
  }
} finally {
  await host.close();
}
const m = { ours: median(times.ours), crun: median(times.crun), runc: median(times.runc) };
console.log(`# ${host.layout}; ${ROUNDS} rounds, medians; from the TypeScript sources (bin/nsk-runtime-dev) ${fmt(median(times.source))} ms`);
console.log(`BENCH oci-lifecycle ours=${fmt(m.ours)} crun=${fmt(m.crun)} runc=${fmt(m.runc)} ratio=${(m.ours / m.crun).toFixed(2)}`);
