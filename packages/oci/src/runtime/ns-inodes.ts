// /proc/PID/ns/* inodes by kind (exec checks the pid is still the container).
import { readlinkSync } from 'node:fs';
import { NAMESPACE_TYPES, NS_FILE } from '@nsk/ns';

export function namespaceInodes(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of NAMESPACE_TYPES) {
    // A new time namespace is entered at execve (time_namespaces(7)): a
    // created container is still in ours, so `time` is no identity.
    if (t === 'time') continue;
    try {
      const m = /\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/${NS_FILE[t]}`));
      if (m) out[t] = Number(m[1]);
    } catch { /* kind missing, or gone */ }
  }
  return out;
}
