// A network namespace of the test's own that plays "the host" for bridge
// containers (spec.networkHost): the bridge, the veths' host ends and the
// published ports live there, the leases in a temporary state directory.
// The machine's own network is never touched (a rule of this project:
// network tests use only loopback and namespaces the test made itself).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Handle, PortProxy, connectFrom, inNetns, netnsNew, type Netns } from '@nsk/net';

export interface StandInHost {
  readonly ns: Netns;
  readonly stateDir: string;
  /** What a bridge container's spec gets: `{ ...spec, networkHost: host.networkHost }`. */
  readonly networkHost: { netns: number; stateDir: string };
  /** Link names in the stand-in namespace. */
  links(): string[];
  /** Link names by ifindex in the stand-in namespace. */
  linksByIndex(): Map<number, string>;
  /** Host ends of container veths (`vnsk…`) that no lease accounts for: left behind. */
  strayVeths(): string[];
  /** `ip ARGS` run in the stand-in namespace. */
  ip(...args: string[]): string;
  /** Something listening on `port` (all addresses) in the stand-in namespace, to take a port. */
  occupy(port: number): Promise<{ close(): Promise<void> }>;
  /** One HTTP/1.0 GET from the stand-in to 127.0.0.1:port, retried while the server starts; the raw response ('' if none). */
  httpGet(port: number, path?: string, ms?: number): Promise<string>;
  /** Closes the namespace (its links go with it) and removes the state directory. */
  done(): void;
}

/** A fresh network namespace with lo up, and a state directory. */
export function standInHost(): StandInHost {
  const ns = netnsNew();
  const h = Handle.open({ netns: ns.fd });
  try { h.linkSetUp('lo'); } finally { h.close(); }
  const stateDir = mkdtempSync(join(tmpdir(), 'nsk-standin-net-'));
  const withHandle = <T>(f: (h: Handle) => T): T => {
    const x = Handle.open({ netns: ns.fd });
    try { return f(x); } finally { x.close(); }
  };
  const links = () => withHandle((x) => x.linkList().map((l) => l.name).sort());
  const once = (port: number, path: string) => new Promise<string>((resolve) => {
    const s = connectFrom(ns.fd, '127.0.0.1', port);
    let d = '';
    s.setTimeout(3000, () => s.destroy());
    s.on('connect', () => s.write(`GET ${path} HTTP/1.0\r\nHost: localhost\r\n\r\n`));
    s.on('data', (c: Buffer) => { d += c.toString(); });
    s.on('close', () => resolve(d));
    s.on('error', () => {});
  });
  return {
    ns,
    stateDir,
    networkHost: { netns: ns.fd, stateDir },
    links,
    linksByIndex: () => withHandle((x) => new Map(x.linkList().map((l) => [l.index, l.name]))),
    strayVeths: () => {
      const leased = new Set<string>();
      for (const bridge of existsSync(stateDir) ? readdirSync(stateDir) : []) {
        const file = join(stateDir, bridge, 'leases.json');
        if (!existsSync(file)) continue;
        const s = JSON.parse(readFileSync(file, 'utf8')) as { leases?: Record<string, { veth: string }> };
        for (const l of Object.values(s.leases ?? {})) leased.add(l.veth);
      }
      return links().filter((l) => l.startsWith('vnsk') && !leased.has(l));
    },
    // spawnSync forks from the calling thread, so `ip` starts in the namespace.
    ip: (...args) => inNetns(ns.fd, () => execFileSync('ip', args, { encoding: 'utf8' })),
    occupy: (port) => PortProxy.start({ hostIp: '0.0.0.0', hostPort: port, containerPort: 9, protocol: 'tcp' }, '127.0.0.1', ns.fd),
    httpGet: async (port, path = '/', ms = 5000) => {
      const end = Date.now() + ms;
      for (;;) {
        const r = await once(port, path);
        if (r.startsWith('HTTP/') || Date.now() > end) return r;
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    done: () => {
      ns.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
