// One busybox root filesystem per test process, removed at exit.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs } from '@nsk/rootfs';
import type { Feature } from '@nsk/clone';

let root: string | undefined;

/** A busybox rootfs in a temporary directory (built once per process). */
export function testRootfs(): string {
  if (root) return root;
  const base = mkdtempSync(join(tmpdir(), 'nsk-test-rootfs-'));
  process.once('exit', () => rmSync(base, { recursive: true, force: true }));
  root = busyboxRootfs(join(base, 'root'));
  return root;
}

/** Maps root inside to root outside, as `unshare -Ur` does (for tests that need a user namespace but are not about it). */
export function rootMap(): Feature {
  return {
    name: 'root-map',
    parent({ pid }) {
      writeFileSync(`/proc/${pid}/uid_map`, '0 0 1\n');
      writeFileSync(`/proc/${pid}/setgroups`, 'deny\n');
      writeFileSync(`/proc/${pid}/gid_map`, '0 0 1\n');
    },
  };
}
