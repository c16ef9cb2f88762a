// A real registry for the tests: Debian's docker-registry (distribution
// v2.8) on 127.0.0.1, storing under a temporary directory. It picks its own
// port (http.addr 127.0.0.1:0) and logs "listening on ADDR", which we read.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface RegistryServer {
  /** "127.0.0.1:PORT", as a reference's registry part. */
  host: string;
  /** "http://127.0.0.1:PORT". */
  url: string;
  pid: number;
  /** Everything it logged so far (its access log included). */
  log(): string;
  stop(): Promise<void>;
}

export interface RegistryConfig {
  /** Its data directory; two registries may share one (one pushes, the other serves with auth). */
  storage: string;
  /** Where its config file goes. */
  dir: string;
  /** distribution configuration "auth" section, as is: { token: {...} } or { htpasswd: {...} }. */
  auth?: Record<string, unknown>;
}

export async function startRegistry(cfg: RegistryConfig): Promise<RegistryServer> {
  mkdirSync(cfg.dir, { recursive: true });
  mkdirSync(cfg.storage, { recursive: true });
  // YAML is a superset of JSON, so the config file is written as JSON.
  const config = {
    version: 0.1,
    log: { level: 'info', formatter: 'text' },
    storage: { filesystem: { rootdirectory: cfg.storage }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
    http: { addr: '127.0.0.1:0', secret: 'nsk-test-secret' },
    ...(cfg.auth ? { auth: cfg.auth } : {}),
  };
  const file = join(cfg.dir, 'config.yml');
  writeFileSync(file, JSON.stringify(config, null, 2));
  if (!existsSync(REGISTRY_BIN)) throw new Error(`${REGISTRY_BIN} is missing (Debian package docker-registry)`);
  const child = spawn(REGISTRY_BIN, ['serve', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const host = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`docker-registry did not start in 10 s:\n${log}`)); }, 10_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      log = (log + s).slice(-1_000_000);
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    });
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`docker-registry exited (${code ?? signal}):\n${log}`)); });
  });
  const url = `http://${host}`;
  await waitForApi(url, child);
  return {
    host, url, pid: child.pid!,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** GET /v2/ until it answers at all (200, or 401 when auth is on). */
async function waitForApi(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch { /* not yet */ }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${url}/v2/ never answered`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
