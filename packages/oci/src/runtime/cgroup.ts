// The container's control groups: made by `create` before clone(2) in
// every hierarchy (@nsk/cgroup), the v1 device allow-list written here,
// the child attached by the parent while it waits. `delete` removes them
// from the directories recorded in the state file (another process).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NskError, ValidationError } from '@nsk/syscall';
import { Cgroup, detectLayout, prepareCgroup, type Layout } from '@nsk/cgroup';
import type { Feature } from '@nsk/clone';
import type { OciSpec } from '../config/index.ts';
import { deviceRuleText, type DeviceRule } from '../config/resources.ts';

/** runc's default allow-list (runtime-spec "Default Devices" plus /dev/pts and /dev/ptmx). */
const DEFAULT_ALLOW = ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm'];

/** Containers without a cgroupsPath go below /nsk-runtime in every hierarchy. */
const DEFAULT_PARENT = 'nsk-runtime';

let layout: Layout | undefined;
const hostLayout = () => (layout ??= detectLayout());

export interface Groups {
  /** Every directory the container's processes are in. */
  dirs: string[];
  /** Directories made for it, deepest first: removed by delete. */
  made: string[];
}

/** `/a/b/c` → parent `/a/b`, name `c`; default `/nsk-runtime/<id>`. */
function split(path: string): { parent: string; name: string } {
  const parts = path.split('/').filter(Boolean);
  const name = parts.pop()!;
  return { parent: `/${parts.join('/')}`, name };
}

/** Checks the limits against the host; makes nothing. */
export function prepareGroups(spec: OciSpec, id: string) {
  const { parent, name } = split(spec.cgroupsPath ?? `/${DEFAULT_PARENT}/${id}`);
  try {
    // kubelet sends cpu.period without a quota for a pod with no CPU limit.
    // A period alone limits nothing (cpu.cfs_quota_us stays -1), so it is
    // left out here rather than refused by @nsk/cgroup. (`update` refuses it:
    // there it would look like a change that is not made.)
    const { cpu, ...rest } = spec.resources.limits;
    let limits = spec.resources.limits;
    if (cpu?.period !== undefined && cpu.quota === undefined) {
      const { period: _alone, ...others } = cpu;
      limits = Object.keys(others).length ? { ...rest, cpu: others } : rest;
    }
    return prepareCgroup({ name, parent, limits, layout: hostLayout() });
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(`linux.resources (${err.field})`, err.message.slice(err.field.length + 2));
    if (err instanceof NskError) throw new ValidationError('linux.resources', err.message);
    throw err;
  }
}

function missingParents(dir: string, stop: string): string[] {
  const out: string[] = [];
  for (let d = dir; d.startsWith(`${stop}/`) && !existsSync(d); d = dirname(d)) out.push(d);
  return out;
}

/** mkdir in every hierarchy, limits, device rules. Undoes itself on failure. */
export function createGroups(spec: OciSpec, prepared: ReturnType<typeof prepareCgroup>): Groups {
  const l = prepared.layout;
  const mounts = [...l.v1.map((h) => h.mountPoint), ...(l.v2 ? [l.v2.mountPoint] : [])];
  const made: string[] = mounts.flatMap((m) => missingParents(join(m, prepared.rel), m));
  const group = Cgroup.create(prepared);
  const dirs = [...group.dirs];
  try {
    const devices = l.v1.find((h) => h.controllers.includes('devices'));
    if (devices) {
      const dir = join(devices.mountPoint, prepared.rel);
      const newDirs = missingParents(dir, devices.mountPoint);
      mkdirSync(dir, { recursive: true });
      made.push(...newDirs);
      dirs.push(dir);
      writeDeviceRules(dir, spec.resources.devices);
    }
  } catch (err) {
    removeGroups({ dirs, made }).catch(() => {});
    throw err;
  }
  return { dirs, made: [...new Set(made)].sort((a, b) => b.length - a.length) };
}

/** v1 devices.allow/devices.deny: the config's rules in their order, then the default allow-list. */
export function writeDeviceRules(dir: string, rules: DeviceRule[] | null): void {
  const write = (file: string, v: string) => writeFileSync(join(dir, file), v);
  if (rules) for (const r of rules) write(r.allow ? 'devices.allow' : 'devices.deny', deviceRuleText(r));
  for (const r of DEFAULT_ALLOW) write('devices.allow', r);
}

/** The parent's part: the child joins every group before its first step (cgroups(7): a write to cgroup.procs). */
export function attachFeature(g: Groups): Feature {
  return {
    name: 'cgroup',
    parent({ pid }) {
      for (const d of g.dirs) writeFileSync(join(d, 'cgroup.procs'), String(pid));
    },
  };
}

/** The pids in the container's groups (the first hierarchy that has them all). */
export function groupPids(g: Groups): number[] {
  const pids = new Set<number>();
  for (const d of g.dirs) {
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.add(Number(line));
    } catch { /* gone */ }
  }
  return [...pids];
}

/** Kills what is left, then rmdir of every group (EBUSY for a moment after the last exit). */
export async function removeGroups(g: Groups, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const pids = groupPids(g);
    if (pids.length === 0) break;
    for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    if (performance.now() > deadline) throw new NskError(`processes ${pids.join(' ')} stay in the container’s cgroups`, 'ERR_NSK_CGROUP_BUSY');
    await new Promise((r) => setTimeout(r, 10));
  }
  for (const d of [...g.dirs].sort((a, b) => b.length - a.length)) {
    for (;;) {
      try { rmdirSync(d); break; } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || performance.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
  // Parents made for it, and the default parent /nsk-runtime: shared with
  // other containers, so removed only when empty (rmdir(2) says EBUSY else).
  const parents = new Set([...g.made, ...g.dirs.map((d) => dirname(d)).filter((d) => d.endsWith(`/${DEFAULT_PARENT}`))]);
  for (const d of [...parents].filter((p) => !g.dirs.includes(p)).sort((a, b) => b.length - a.length)) {
    try { rmdirSync(d); } catch { /* in use by another container, or gone */ }
  }
}

/** freezer: v1 freezer.state, or v2 cgroup.freeze. */
export function freeze(g: Groups, frozen: boolean): void {
  const v1 = g.dirs.find((d) => existsSync(join(d, 'freezer.state')));
  if (v1) { writeFileSync(join(v1, 'freezer.state'), frozen ? 'FROZEN' : 'THAWED'); return; }
  const v2 = g.dirs.find((d) => existsSync(join(d, 'cgroup.freeze')));
  if (!v2) throw new NskError('no freezer: neither a v1 freezer hierarchy nor cgroup v2', 'ERR_NSK_NO_FREEZER');
  writeFileSync(join(v2, 'cgroup.freeze'), frozen ? '1' : '0');
}

export function isFrozen(g: Groups): boolean {
  const v1 = g.dirs.find((d) => existsSync(join(d, 'freezer.state')));
  if (v1) return readFileSync(join(v1, 'freezer.state'), 'utf8').trim() === 'FROZEN';
  const v2 = g.dirs.find((d) => existsSync(join(d, 'cgroup.freeze')));
  return v2 ? readFileSync(join(v2, 'cgroup.freeze'), 'utf8').trim() === '1' : false;
}
