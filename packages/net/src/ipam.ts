// Address leases for one bridge network, kept in a file so they survive
// restarts of nsk (as CNI's host-local IPAM does): `<stateDir>/<bridge>/leases.json`,
// changed only under an flock(2) on `<stateDir>/<bridge>/lock`, written to a
// temporary file and rename(2)d into place so a crash never leaves half a file.
//
// An address is never handed out twice: a lease is released only by its
// holder, or when both the process that took it and the container it was
// for have ended (their pid and start time no longer match). Allocation goes
// round-robin from the last address given, so a just-released address is
// not reused at once.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NskError, ValidationError } from '@nsk/syscall';
import { withFileLock } from './lock.ts';
import type { NatState } from './nat.ts';
import { isAlive, processId, type ProcessId } from './proc.ts';
import { AF_INET, cidrContains, nthAddress, offsetOf, parseCidr, type Cidr } from './ip.ts';

export interface Lease {
  /** The container's id. */
  id: string;
  /** The host end of its veth, to remove if the lease is reclaimed. */
  veth: string;
  /** The process that took the lease. */
  owner: ProcessId | null;
  /** The container, once started. */
  container: ProcessId | null;
}

export interface LeaseFile {
  subnet: string;
  gateway: string;
  /** The last address handed out (round-robin start). */
  last: string | null;
  /** True when nsk created the bridge, and so removes it after the last lease. */
  createdBridge: boolean;
  /** Set while nsk's NAT table exists for this bridge (nat.ts). */
  nat?: NatState | null;
  leases: Record<string, Lease>;
}

export class LeaseStore {
  readonly dir: string;
  readonly subnet: Cidr;
  readonly gateway: string;

  constructor(stateDir: string, bridge: string, subnet: Cidr, gateway: string) {
    this.dir = join(stateDir, bridge);
    this.subnet = subnet;
    this.gateway = gateway;
  }

  get file(): string { return join(this.dir, 'leases.json'); }

  /** Runs `fn` on the lease file under the lock, writing back what it changed (even if it throws). */
  update<T>(fn: (s: LeaseFile) => T): T {
    return withFileLock(join(this.dir, 'lock'), () => {
      const s = this.#read();
      const before = JSON.stringify(s);
      try {
        return fn(s);
      } finally {
        // Also when fn threw halfway: what it made (a bridge) must be on
        // record so that cleanup can undo it.
        if (JSON.stringify(s) !== before) this.#write(s);
      }
    });
  }

  /** The lease file as it is now (a snapshot, read under the lock). */
  read(): LeaseFile {
    return this.update((s) => structuredClone(s));
  }

  #read(): LeaseFile {
    const subnet = `${ipOf(this.subnet)}/${this.subnet.prefix}`;
    const fresh: LeaseFile = { subnet, gateway: this.gateway, last: null, createdBridge: false, leases: {} };
    if (!existsSync(this.file)) return fresh;
    const s = JSON.parse(readFileSync(this.file, 'utf8')) as LeaseFile;
    if (s.subnet !== subnet || s.gateway !== this.gateway) {
      if (Object.keys(s.leases).length > 0) {
        throw new NskError(`the network in ${this.dir} is ${s.subnet} (gateway ${s.gateway}) and has leases; it cannot become ${subnet} (gateway ${this.gateway}) until they end`, 'ERR_NSK_SUBNET_MISMATCH');
      }
      return { ...fresh, createdBridge: s.createdBridge, nat: s.nat ?? null };
    }
    return s;
  }

  #write(s: LeaseFile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  /**
   * Leases an address for container `id` (`wanted`, or the next free one).
   * Reclaims leases whose holder and container have both ended, calling
   * `reclaimed` for each (to remove a veth left behind).
   */
  allocate(s: LeaseFile, id: string, veth: string, wanted?: string, reclaimed?: (ip: string, l: Lease) => void): string {
    for (const [ip, l] of Object.entries(s.leases)) {
      if (!isAlive(l.owner) && !isAlive(l.container)) {
        delete s.leases[ip];
        reclaimed?.(ip, l);
      }
    }
    const lease: Lease = { id, veth, owner: processId(process.pid), container: null };
    if (wanted !== undefined) {
      checkAddress(this.subnet, this.gateway, wanted, 'ip');
      const holder = s.leases[wanted];
      if (holder) throw new NskError(`address ${wanted} is leased to container ${holder.id}`, 'ERR_NSK_ADDRESS_IN_USE');
      s.leases[wanted] = lease;
      return wanted;
    }
    const size = hostCount(this.subnet);
    const start = s.last !== null && cidrContains(this.subnet, s.last) ? offsetOf(this.subnet, s.last) : 0n;
    for (let i = 1n; i <= size; i++) {
      let off = ((start + i - 1n) % size) + 1n; // 1 … size
      if (this.subnet.family === AF_INET && off === size) continue; // IPv4 broadcast
      const ip = nthAddress(this.subnet, off);
      if (ip === this.gateway || s.leases[ip]) continue;
      s.leases[ip] = lease;
      s.last = ip;
      return ip;
    }
    throw new NskError(`no free address left in ${s.subnet}`, 'ERR_NSK_SUBNET_FULL');
  }
}

function ipOf(c: Cidr): string {
  return nthAddress(c, 0n);
}

/** Addresses after the network address: 2^(bits-prefix) - 1 (the last is IPv4 broadcast). */
function hostCount(c: Cidr): bigint {
  const bits = BigInt((c.family === AF_INET ? 32 : 128) - c.prefix);
  const n = (1n << bits) - 1n;
  return n > 1n << 20n ? 1n << 20n : n; // enough for any bridge
}

/** A container address must be in the subnet, and neither its network, broadcast nor gateway address. */
export function checkAddress(subnet: Cidr, gateway: string, ip: string, field: string): void {
  if (!cidrContains(subnet, ip)) throw new ValidationError(field, `${ip} is outside the subnet ${ipOf(subnet)}/${subnet.prefix}`);
  const off = offsetOf(subnet, ip);
  if (off === 0n) throw new ValidationError(field, `${ip} is the network address of ${ipOf(subnet)}/${subnet.prefix}`);
  if (subnet.family === AF_INET && off === (1n << BigInt(32 - subnet.prefix)) - 1n) throw new ValidationError(field, `${ip} is the broadcast address of ${ipOf(subnet)}/${subnet.prefix}`);
  if (ip === gateway) throw new ValidationError(field, `${ip} is the gateway (the bridge's own address)`);
}

export { parseCidr };
