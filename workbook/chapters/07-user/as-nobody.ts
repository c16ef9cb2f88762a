// Run as an unprivileged user (nobody) by index.ts: tries a UTS namespace
// without and with a user namespace, and prints what it saw as JSON.
import { readFileSync } from 'node:fs';
import { spawn, Plan } from '@nsk/clone';
import { SyscallError } from '@nsk/syscall';
import { user } from '@nsk/user';
import { run } from '../../src/lab.ts';

const uidOf = (pid: number | 'self') => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

let withoutUser = 'created';
try {
  const c = await spawn({ argv: ['/bin/busybox', 'true'], namespaces: ['uts'] });
  await c.exited;
} catch (err) {
  withoutUser = err instanceof SyscallError ? `${err.syscall}: ${err.errno}` : String(err);
}

const plan = new Plan();
plan.sethostname('rootless');
let hostUid = -1;
const r = await run(
  { argv: ['/bin/busybox', 'sh', '-c', 'id -u; hostname; cat /proc/self/uid_map; sleep 0.2'], namespaces: ['uts'], features: [user()], plan },
  (child) => { hostUid = uidOf(child.pid); },
);
const [idInside, hostname, uidMap] = r.stdout.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
console.log(JSON.stringify({ self: uidOf('self'), withoutUser, idInside: Number(idInside), hostname, uidMap, hostUid, code: r.code }));
