// Releasing a bridge container's network from another process: what
// network()'s cleanup would have undone, when the process that ran the
// container died before it could (SIGKILLed, the OOM killer). Everything is
// found from the state directory and the container's id alone: its lease
// (and the host end of its veth, named in the lease), its /etc files, and —
// after the last lease — the bridge and NAT that nsk made.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { NskError, SyscallError, ValidationError } from '@nsk/syscall';
import { Handle } from './handle.ts';
import { LeaseStore, type LeaseFile } from './ipam.ts';
import { natDisable } from './nat.ts';
import { checkLinkName } from './names.ts';
import { processStart, type ProcessId } from './proc.ts';
import { parseCidr } from './ip.ts';
import { DEFAULT_BRIDGE, DEFAULT_STATE_DIR } from './network.ts';

export interface ReleaseOptions {
  /** The container's id, the lease owner (network()'s `id`). */
  id: string;
  /** Where its leases live. Default `/var/lib/nsk/net`. */
  stateDir?: string;
  /** The bridge. Default `nsk0`. */
  bridge?: string;
  /** The network namespace that holds the bridge (network()'s `hostNetns`). Default: this process's. */
  hostNetns?: number | null;
}

export interface Released {
  /** The addresses whose leases were released. */
  addresses: string[];
  /** Host ends of veths deleted (usually none: a veth pair dies with the container's namespace). */
  veths: string[];
  /** The container's /etc files (`<stateDir>/containers/<id>`) were there and are removed. */
  files: boolean;
  /** The bridge nsk made was removed (the last lease went). */
  bridge: boolean;
}

/**
 * Releases container `id`'s lease, deletes the host end of its veth if it
 * is still there, removes its /etc files, and after the last lease removes
 * the bridge (and NAT) nsk made, as network()'s cleanup does. A lease is
 * released only when both the process that took it and the container have
 * ended (the rule of the lease store: an address is never handed out
 * twice); one still held throws ERR_NSK_LEASE_HELD and changes nothing.
 * Idempotent: what is gone already is skipped.
 */
export function releaseNetwork(o: ReleaseOptions): Released {
  if (typeof o !== 'object' || o === null) throw new ValidationError('options', 'give { id, stateDir?, bridge?, hostNetns? }');
  if (typeof o.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(o.id)) throw new ValidationError('id', `letters, digits, _ . - (up to 64): ${JSON.stringify(o.id)}`);
  const stateDir = o.stateDir ?? DEFAULT_STATE_DIR;
  if (typeof stateDir !== 'string' || !isAbsolute(stateDir)) throw new ValidationError('stateDir', `must be an absolute path: ${JSON.stringify(stateDir)}`);
  const bridge = checkLinkName(o.bridge ?? DEFAULT_BRIDGE, 'bridge');
  const hostNetns = o.hostNetns ?? null;
  const out: Released = { addresses: [], veths: [], files: false, bridge: false };

  const leases = join(stateDir, bridge, 'leases.json');
  if (existsSync(leases)) {
    // The store checks the subnet it is opened for against the file's; the
    // file's own is the one its leases were given from.
    const { subnet, gateway } = JSON.parse(readFileSync(leases, 'utf8')) as LeaseFile;
    const store = new LeaseStore(stateDir, bridge, parseCidr(subnet, 'subnet'), gateway);
    const host = Handle.open({ netns: hostNetns });
    try {
      store.update((s) => {
        const mine = Object.entries(s.leases).filter(([, l]) => l.id === o.id);
        const held = mine.filter(([, l]) => running(l.owner) || running(l.container));
        if (held.length) {
          const [ip, l] = held[0]!;
          throw new NskError(`the lease of ${ip} for container ${o.id} is still held (${running(l.container) ? `its container, pid ${l.container!.pid}, runs` : `the process that took it, pid ${l.owner!.pid}, runs`})`, 'ERR_NSK_LEASE_HELD');
        }
        for (const [ip, l] of mine) {
          if (deleteIfThere(host, l.veth)) out.veths.push(l.veth);
          delete s.leases[ip];
          out.addresses.push(ip);
        }
        if (mine.length === 0 || Object.keys(s.leases).length > 0) return;
        // The last container of the bridge: undo what nsk made for all.
        if (s.nat) {
          natDisable(s.nat, hostNetns);
          s.nat = null;
        }
        if (s.createdBridge) {
          out.bridge = deleteIfThere(host, bridge);
          s.createdBridge = false;
        }
      });
    } finally {
      host.close();
    }
  }

  const files = join(stateDir, 'containers', o.id);
  if (existsSync(files)) {
    rmSync(files, { recursive: true, force: true });
    out.files = true;
  }
  return out;
}

/**
 * The very process `p` names still runs: same start time, and not a zombie
 * (proc(5) stat field 3) — a container's PID 1 whose parent died waits,
 * a zombie, for whoever inherits it to reap it; it holds nothing.
 */
function running(p: ProcessId | null): boolean {
  if (!p || processStart(p.pid) !== p.start) return false;
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** `ip link del NAME`; false when it was already gone. */
function deleteIfThere(h: Handle, name: string): boolean {
  try {
    h.linkDel(name);
    return true;
  } catch (err) {
    if (err instanceof SyscallError && err.errno === 'ENODEV') return false;
    throw err;
  }
}
