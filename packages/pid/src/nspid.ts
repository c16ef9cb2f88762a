// Translating pids between namespaces. proc(5), /proc/PID/status:
// "NSpid: the thread's pid in each of the pid namespaces of which it is a
// member, from the outermost (the one /proc was mounted from) inward".
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { NskError } from '@nsk/syscall';

/** `NSpid` of a process as this /proc sees it: [outermost … innermost]. */
export function nsPids(pid: number): number[] {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (err) {
    throw new NskError(`no process ${pid} in this pid namespace (/proc/${pid}/status: ${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'ERR_NSK_NO_PROCESS');
  }
  const line = /^NSpid:\s*(.*)$/m.exec(status);
  if (!line) throw new NskError(`/proc/${pid}/status has no NSpid line (Linux ≥ 4.1 has it)`, 'ERR_NSK_NO_NSPID');
  return line[1]!.trim().split(/\s+/).map(Number);
}

/** The pid `pid` (ours) has inside its own, innermost pid namespace. */
export function innerPid(pid: number): number {
  return nsPids(pid).at(-1)!;
}

/** The inode of `/proc/PID/ns/pid`, which names the namespace. */
export function pidNamespaceOf(pid: number): number {
  return Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/pid`))![1]);
}

/**
 * The pid, in our namespace, of the process that is `inner` inside the pid
 * namespace of `member` (any process of that namespace, its PID 1 say), or
 * null. What `docker top` must do to show host pids.
 */
export function outerPid(member: number, inner: number): number | null {
  const ns = pidNamespaceOf(member);
  const depth = nsPids(member).length;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ids = nsPids(Number(entry));
      // Members of the namespace and of namespaces nested below it list it
      // at the same depth; the inode check tells which namespace it is.
      if (ids.length >= depth && ids[depth - 1] === inner && pidNamespaceOf(Number(entry)) === ns) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return null;
}

/** Pids (ours) of every process in the pid namespace of `member`, including nested ones. */
export function processesInNamespaceOf(member: number): number[] {
  const depth = nsPids(member).length;
  const memberNs = pidNamespaceOf(member);
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const p = Number(entry);
      if (nsPids(p).length < depth) continue;
      // A process at this depth or deeper belongs if it is in the namespace,
      // or its ancestor namespace at that depth is: walk up by parent pids.
      let q = p;
      while (q > 0 && nsPids(q).length > depth) q = parentPid(q);
      if (q > 0 && pidNamespaceOf(q) === memberNs) out.push(p);
    } catch {
      // gone
    }
  }
  return out.sort((a, b) => a - b);
}

/** PPid from /proc/PID/status (0 for none). */
export function parentPid(pid: number): number {
  const m = /^PPid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
