// A child process that runs crun and runc for the benches, from a mount
// namespace of its own (see legacyCgroupViewForRuntimes), and times each
// run itself, exactly as the parent times nsk: so the parent can interleave
// ours and theirs round by round on a busy machine, and stay in the host's
// namespace. Messages: {argv} or {shell} in, {ms} or {error} out.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { legacyCgroupViewForRuntimes } from './oci.ts';

interface Request { id: number; argv?: string[]; shell?: string }
interface Reply { id: number; ms?: number; error?: string; layout?: string }

function serve(): void {
  const layout = legacyCgroupViewForRuntimes();
  process.send!({ id: 0, layout } satisfies Reply);
  process.on('message', (m: Request) => {
    const argv = m.shell !== undefined ? ['/bin/sh', '-c', m.shell] : m.argv!;
    const t0 = performance.now();
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = performance.now() - t0;
    process.send!(r.status === 0 ? { id: m.id, ms } : { id: m.id, error: `${argv.join(' ')}: exit ${r.status ?? r.signal}\n${String(r.stderr)}` });
  });
  process.on('disconnect', () => process.exit(0));
}

export class RuntimeHost {
  readonly layout: string;
  readonly #child: ChildProcess;
  #next = 1;
  readonly #waiting = new Map<number, (r: Reply) => void>();

  private constructor(child: ChildProcess, layout: string) {
    this.#child = child;
    this.layout = layout;
    child.on('message', (r: Reply) => { this.#waiting.get(r.id)?.(r); this.#waiting.delete(r.id); });
  }

  static start(): Promise<RuntimeHost> {
    const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: ['--conditions=nsk-source', '--no-warnings=ExperimentalWarning'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`runtime host exited ${code}`)));
      child.once('message', (r: Reply) => { child.removeAllListeners('exit'); resolve(new RuntimeHost(child, r.layout ?? '')); });
    });
  }

  /** Wall ms of `argv` (or `sh -c shell`) run to completion by the host process; throws unless it exits 0. */
  time(what: { argv: string[] } | { shell: string }): Promise<number> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, (r) => (r.error !== undefined ? reject(new Error(r.error)) : resolve(r.ms!)));
      this.#child.send({ id, ...what });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#child.exitCode !== null) { resolve(); return; }
      this.#child.once('exit', () => resolve());
      this.#child.disconnect();
    });
  }
}

if (process.argv[2] === '--serve' && process.send) serve();
