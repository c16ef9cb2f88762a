// /proc/PID/ns/* inodes by kind (exec checks the pid is still the container).
import { readlinkSync } from 'node:fs';
import { NAMESPACE_TYPES, NS_FILE } from '@nsk/ns';

export function namespaceInodes(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of NAMESPACE_TYPES) {
    try {
      const m = /\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/${NS_FILE[t]}`));
      if (m) out[t] = Number(m[1]);
    } catch { /* kind missing, or gone */ }
  }
  return out;
}
