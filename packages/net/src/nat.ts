// Outbound NAT for a bridge network, only when asked: IP forwarding on, and
// an nftables table of nsk's own that masquerades the subnet's traffic
// leaving by any other link (what `iptables -t nat -A POSTROUTING -s SUBNET
// ! -o BRIDGE -j MASQUERADE` did). Done with the nft(8) program from
// Debian's `nftables` package; nftables' own netlink protocol (nf_tables
// batches) is not spoken here yet.
//
// Nothing else on the host firewall is touched: the table is nsk's alone,
// and it is deleted — and ip_forward put back — when the bridge's last
// container ends.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { NskError } from '@nsk/syscall';
import { inNetns } from './netns.ts';
import { AF_INET, nthAddress, type Cidr } from './ip.ts';

export interface NatState {
  /** `ip nsk_nsk0`: the nft family and table nsk created. */
  family: 'ip' | 'ip6';
  table: string;
  /** ip_forward as it was before (restored when NAT goes). */
  forwardWas: string;
}

/** Where nft lives, or null. */
export function findNft(): string | null {
  return ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'].find((p) => existsSync(p)) ?? null;
}

const forwardPath = (family: 'ip' | 'ip6') => (family === 'ip' ? '/proc/sys/net/ipv4/ip_forward' : '/proc/sys/net/ipv6/conf/all/forwarding');

function nft(netns: number | null, script: string, step: string): void {
  const bin = findNft();
  if (!bin) throw new NskError(`${step}: nft not found (Debian/Ubuntu: apt-get install nftables)`, 'ERR_NSK_NO_NFT');
  // spawnSync forks from this thread, so nft starts in `netns`.
  const r = inNetns(netns, () => spawnSync(bin, ['-f', '-'], { input: script, encoding: 'utf8' }));
  if (r.status !== 0) throw new NskError(`${step}: nft -f - exited ${r.status ?? r.signal}: ${(r.stderr || String(r.error)).trim()}`, 'ERR_NSK_NFT');
}

/**
 * Turns on forwarding and adds the masquerade table. /proc/sys/net shows
 * the namespace of the thread that opens it (proc(5)), hence inNetns.
 */
export function natEnable(bridge: string, subnet: Cidr, netns: number | null): NatState {
  const family = subnet.family === AF_INET ? 'ip' : 'ip6';
  const table = `nsk_${bridge.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const net = `${nthAddress(subnet, 0n)}/${subnet.prefix}`;
  const saddr = family === 'ip' ? 'ip saddr' : 'ip6 saddr';
  nft(netns, [
    `table ${family} ${table} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ${saddr} ${net} oifname != "${bridge}" masquerade`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    `    iifname "${bridge}" accept`,
    `    oifname "${bridge}" ct state established,related accept`,
    '  }',
    '}',
    '',
  ].join('\n'), `enable NAT for ${net} on ${bridge}`);
  const path = forwardPath(family);
  const forwardWas = inNetns(netns, () => readFileSync(path, 'utf8').trim());
  if (forwardWas !== '1') inNetns(netns, () => writeFileSync(path, '1'));
  return { family, table, forwardWas };
}

/** Deletes nsk's table and puts ip_forward back as it was. */
export function natDisable(s: NatState, netns: number | null): void {
  nft(netns, `delete table ${s.family} ${s.table}\n`, `remove NAT table ${s.table}`);
  if (s.forwardWas !== '1') inNetns(netns, () => writeFileSync(forwardPath(s.family), s.forwardWas));
}
