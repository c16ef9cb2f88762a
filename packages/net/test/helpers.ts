// Shared by the tests: throwaway namespaces, and what `ip -json` says about one.
import { execFileSync } from 'node:child_process';
import { Handle, inNetns, netnsNew, type Netns } from '../src/index.ts';

/** A unique prefix for links and bridges of this test process (parallel files never collide). */
export const TAG = `nskt${process.pid % 100000}`;

/** A fresh network namespace with lo up, closed by the returned function. */
export function scratchNetns(): { ns: Netns; h: Handle; done: () => void } {
  const ns = netnsNew();
  const h = Handle.open({ netns: ns.fd });
  h.linkSetUp('lo');
  return { ns, h, done: () => { h.close(); ns.close(); } };
}

/** `ip -json ARGS` run inside `ns` (spawnSync forks from the calling thread, so it inherits the namespace). */
export function ipJson<T = unknown>(ns: Netns | null, ...args: string[]): T {
  const run = () => execFileSync('ip', ['-json', ...args], { encoding: 'utf8' });
  return JSON.parse(ns ? inNetns(ns.fd, run) : run()) as T;
}

/**
 * Links of this process's own namespace (the host's) that nsk or these tests
 * could have made: `nsk*`, `vnsk*`, `veth*`, this test's TAG. (Other
 * packages' tests may add and remove their own links meanwhile.)
 */
export function hostLinks(): string[] {
  return ipJson<Array<{ ifname: string }>>(null, 'link', 'show').map((l) => l.ifname).filter((n) => /^(v?nsk|veth)/.test(n)).sort();
}

import { connectFrom } from '../src/index.ts';

/** One HTTP/1.0 GET over a socket made in `netns`; the raw response. */
export function httpGet(netns: Netns | null, ip: string, port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connectFrom(netns?.fd ?? null, ip, port);
    let d = '';
    s.setTimeout(3000, () => s.destroy(new Error('timeout')));
    s.on('connect', () => s.write(`GET ${path} HTTP/1.0\r\nHost: ${ip}\r\n\r\n`));
    s.on('data', (c: Buffer) => { d += c.toString(); });
    s.on('end', () => { s.destroy(); resolve(d); });
    s.on('error', reject);
  });
}

/** httpGet until a status line comes back (the server may still be starting). */
export async function httpGetRetry(netns: Netns | null, ip: string, port: number, path = '/', ms = 5000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await httpGet(netns, ip, port, path).catch((e: unknown) => String(e));
    if (r.startsWith('HTTP/') || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}
