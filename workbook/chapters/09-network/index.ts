// Chapter 9: the network namespace. An empty one (only lo, down), a veth
// pair across two namespaces, two containers on a bridge, and a page served
// from a container through a published port — all in rtnetlink, with the
// iproute2 commands the seeds used shown beside each step.
//
// Everything happens in namespaces this chapter makes; a throwaway namespace
// plays "the host", so the machine's own interfaces are never touched.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { O, close, pipe2 } from '@nsk/syscall';
import { spawn, type Feature } from '@nsk/clone';
import { rootfs } from '@nsk/mount';
import { busyboxRootfs } from '@nsk/rootfs';
import { Handle, connectFrom, inNetns, netnsNew, network, type Netns } from '@nsk/net';
import { defineChapter } from '../../src/chapter.ts';

/** `ip ARGS` run inside `ns` (spawnSync forks from this thread, so it starts in the namespace). */
export function ipIn(ns: Netns | null, ...args: string[]): string {
  const run = () => execFileSync('ip', args, { encoding: 'utf8' });
  return ns ? inNetns(ns.fd, run) : run();
}

export interface LinkView { name: string; up: boolean; kind: string | null; addresses: string[] }

/** What our own netlink dump says about the links of `h`'s namespace. */
export function linkView(h: Handle): LinkView[] {
  const addrs = h.addrList();
  return h.linkList().map((l) => ({
    name: l.name, up: l.up, kind: l.kind,
    addresses: addrs.filter((a) => a.index === l.index).map((a) => `${a.address}/${a.prefix}`),
  }));
}

const brief = (v: LinkView[]) => v.map((l) => `${l.name.padEnd(10)} ${(l.up ? 'UP' : 'DOWN').padEnd(5)} ${l.addresses.join(' ')}`).join('\n');

/** Step 1 — `unshare -n; ip a`: a new network namespace has one link, lo, and it is down. */
export function emptyNamespace(): { links: LinkView[]; ipJson: Array<{ ifname: string; operstate: string; flags: string[] }>; hostLinkCount: number } {
  const ns = netnsNew();
  const h = Handle.open({ netns: ns.fd });
  try {
    const host = Handle.open();
    const hostLinkCount = host.linkList().length;
    host.close();
    return { links: linkView(h), ipJson: JSON.parse(ipIn(ns, '-json', 'link')) as never, hostLinkCount };
  } finally {
    h.close();
    ns.close();
  }
}

/** Step 2 — a veth pair, one end moved into a second namespace, both addressed: they reach each other. */
export function vethPair(): { left: LinkView[]; right: LinkView[]; ping: string } {
  const a = netnsNew();
  const b = netnsNew();
  const ha = Handle.open({ netns: a.fd });
  const hb = Handle.open({ netns: b.fd });
  try {
    // ip link add veth0 type veth peer name veth1 netns B
    ha.linkAdd({ kind: 'veth', name: 'veth0', peer: { name: 'veth1', netns: { fd: b.fd } } });
    ha.addrAdd('veth0', '10.200.0.1/24');
    ha.linkSetUp('veth0');
    hb.addrAdd('veth1', '10.200.0.2/24');
    hb.linkSetUp('veth1');
    hb.linkSetUp('lo');
    // ping needs no event loop on our side: a synchronous spawn is fine here.
    const ping = inNetns(a.fd, () => execFileSync('busybox', ['ping', '-c', '1', '-W', '2', '10.200.0.2'], { encoding: 'utf8' }));
    return { left: linkView(ha), right: linkView(hb), ping };
  } finally {
    ha.close(); hb.close(); a.close(); b.close();
  }
}

/** A child's stdout and stderr, read while the event loop turns. */
function output(): { fd: number; text: () => Promise<string> } {
  const [r, w] = pipe2(O.CLOEXEC);
  const sock = new Socket({ fd: r, readable: true, writable: false });
  let s = '';
  sock.on('data', (c: Buffer) => { s += c.toString(); });
  const done = new Promise<string>((resolve) => sock.once('end', () => { sock.destroy(); resolve(s); }));
  let closed = false;
  return { fd: w, text: () => { if (!closed) { closed = true; close(w); } return done; } };
}

async function runIn(features: Feature[], script: string): Promise<{ status: number; out: string }> {
  const out = output();
  let child;
  try {
    child = await spawn({ argv: ['/bin/sh', '-c', script], namespaces: ['pid', 'uts'], features, stdio: [null, out.fd, out.fd] });
  } finally {
    void out.text();
  }
  const st = await child.exited;
  return { status: st.status, out: await out.text() };
}

/** One HTTP/1.0 GET from the namespace `ns` (its socket is made there). */
function httpGet(ns: Netns, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connectFrom(ns.fd, '127.0.0.1', port);
    let d = '';
    s.setTimeout(3000, () => s.destroy());
    s.on('connect', () => s.write('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'));
    s.on('data', (c: Buffer) => { d += c.toString(); });
    s.on('close', () => resolve(d));
    s.on('error', () => {});
  });
}

export interface BridgeResult {
  web: { address: string; hostVeth: string; hostPort: number };
  client: { address: string };
  /** `ip -br -4 addr` in the host stand-in while the web container runs. */
  hostWhileRunning: string;
  /** What the client container printed: its eth0 and its ping of the web container. */
  clientOut: string;
  clientStatus: number;
  /** The host's fetch through the published port. */
  http: string;
  /** After the web container was killed. */
  after: { hostLinks: string[]; leases: number; portAnswers: boolean };
}

/**
 * Steps 3 and 4 — two containers on the bridge nsk0 of a stand-in host:
 * a web server (busybox httpd, port 80 published as 8080) and a client that
 * pings it; then the host fetches the page through the published port, and
 * the web container is killed: veth, lease, proxy and bridge all go.
 */
export async function bridgeAndPort(): Promise<BridgeResult> {
  const base = mkdtempSync(join(tmpdir(), 'nsk-ch9-'));
  const root = busyboxRootfs(join(base, 'rootfs'));
  writeFileSync(join(root, 'var/www/index.html'), '<h1>hello from a container</h1>\n');
  const host = netnsNew();
  const hh = Handle.open({ netns: host.fd });
  hh.linkSetUp('lo');
  const common = { hostNetns: host.fd, stateDir: join(base, 'state'), bridge: 'nsk0', subnet: '10.88.0.0/16' };
  try {
    const webNet = network({ ...common, hostname: 'web', publish: ['8080:80'] });
    const web = await spawn({ argv: ['/usr/sbin/httpd', '-f', '-p', '80', '-h', '/var/www'], namespaces: ['pid', 'uts'], features: [webNet, rootfs({ path: root })], stdio: [null, null, null] });
    try {
      const w = webNet.attachment!;
      const hostWhileRunning = ipIn(host, '-br', '-4', 'addr');
      const clientNet = network({ ...common, hostname: 'client' });
      const client = await runIn([clientNet, rootfs({ path: root })], `ip -4 -o addr show dev eth0; ping -c 2 -W 2 ${w.address}`);
      let http = '';
      for (let i = 0; i < 50 && !http.startsWith('HTTP/'); i++) {
        http = await httpGet(host, 8080);
        if (!http) await new Promise((r) => setTimeout(r, 50));
      }
      web.kill('SIGKILL');
      await web.exited;
      const leasesFile = join(common.stateDir, 'nsk0', 'leases.json');
      const leases = existsSync(leasesFile) ? Object.keys((JSON.parse(readFileSync(leasesFile, 'utf8')) as { leases: object }).leases).length : 0;
      const portAnswers = (await httpGet(host, 8080)) !== '';
      return {
        web: { address: w.address, hostVeth: w.hostVeth, hostPort: w.ports[0]!.hostPort },
        client: { address: /inet ([0-9.]+)\//.exec(client.out)?.[1] ?? '' },
        hostWhileRunning,
        clientOut: client.out,
        clientStatus: client.status,
        http,
        after: { hostLinks: hh.linkList().map((l) => l.name), leases, portAnswers },
      };
    } finally {
      web.kill('SIGKILL');
      await web.exited;
    }
  } finally {
    hh.close();
    host.close();
    rmSync(base, { recursive: true, force: true });
  }
}

export default defineChapter({
  n: 9,
  slug: 'network',
  title: 'The network namespace',
  titleKo: '네트워크 네임스페이스',
  async run(show) {
    show.say('A network namespace has its own links, addresses, routes, ports and firewall. A new one is empty — not even loopback works yet. We build a container network out of it with rtnetlink, the protocol `ip` itself speaks to the kernel.');

    show.step('An empty network namespace: `unshare -n; ip a`');
    const empty = emptyNamespace();
    show.sideBySide({
      host: `${empty.hostLinkCount} links in this process's namespace`,
      container: brief(empty.links),
    });
    show.say(`Our netlink dump and \`ip -json link\` agree: ${empty.ipJson.map((l) => `${l.ifname} ${l.operstate}`).join(', ')}. Nothing can be reached, not even 127.0.0.1, until lo is up.`);

    show.step('A veth pair across two namespaces');
    show.code('ip link add veth0 type veth peer name veth1 netns B\nip addr add 10.200.0.1/24 dev veth0; ip link set veth0 up\nip -n B addr add 10.200.0.2/24 dev veth1; ip -n B link set veth1 up');
    const pair = vethPair();
    show.sideBySide({ host: brief(pair.left), container: brief(pair.right) });
    show.code(pair.ping.trim());

    show.step('Two containers on a bridge, and a published port');
    show.say('A throwaway namespace plays the host here. network() creates the bridge nsk0 (10.88.0.1/16) there, leases each container an address, and gives it a veth whose host end joins the bridge and whose other end is born inside the container as eth0, with a default route via the bridge.');
    const r = await bridgeAndPort();
    show.sideBySide({ host: r.hostWhileRunning.trim(), container: r.clientOut.trim() });
    show.say(`The client (${r.client.address}) pinged the web container (${r.web.address}) across nsk0. The host then fetched http://127.0.0.1:${r.web.hostPort}/ through nsk's userland proxy:`);
    show.code(r.http.split('\r\n\r\n').map((part, i) => (i === 0 ? part.split('\r\n')[0]! : part.trim())).join('\n'));
    show.say(`After the web container was killed: links on the host ${JSON.stringify(r.after.hostLinks)}, ${r.after.leases} leases, port ${r.web.hostPort} ${r.after.portAnswers ? 'still answers (!)' : 'closed'}. The veth died with the container's namespace, and the bridge went with its last user.`);
  },
});
