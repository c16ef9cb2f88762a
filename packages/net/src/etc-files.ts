// What a container's /etc/hosts and /etc/resolv.conf say (hosts(5),
// resolv.conf(5)).
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** hosts(5): loopback names, and the container's own name on its address. */
export function hostsContent(hostname: string, address: string | null, extra: Readonly<Record<string, string>> = {}): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  if (address) lines.push(`${address}\t${hostname}`);
  else lines[0] += ` ${hostname}`;
  for (const [name, ip] of Object.entries(extra)) lines.push(`${ip}\t${name}`);
  return `${lines.join('\n')}\n`;
}

/**
 * resolv.conf(5): the given nameservers, else the host's — less those on
 * loopback (127.0.0.0/8, ::1), which inside the container would be the
 * container's own loopback, where no resolver listens. `search` and
 * `options` lines are kept.
 */
export function resolvConfContent(dns?: readonly string[], hostResolvConf = '/etc/resolv.conf'): string {
  const host = existsSync(hostResolvConf) ? readFileSync(hostResolvConf, 'utf8') : '';
  const servers = dns ?? host.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => !!s && isIP(s) !== 0);
  const usable = servers.filter((s) => !s.startsWith('127.') && s !== '::1');
  const kept = host.split('\n').filter((l) => /^\s*(search|domain|options)\s/.test(l));
  const lines = [...kept, ...usable.map((s) => `nameserver ${s}`)];
  if (usable.length === 0) lines.unshift('# no nameserver: the host\'s resolvers listen on its loopback, which the container cannot reach');
  return `${lines.join('\n')}\n`;
}
