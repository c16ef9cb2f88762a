// Rootless: a caller without root may only use a cgroup v2 subtree someone
// delegated to it (cgroups(7), "Cgroups v2 delegation"). Here root plays
// the delegator (as systemd's Delegate=yes does: chown the directory and its
// cgroup.procs, cgroup.subtree_control, cgroup.threads), and the code runs
// in a Node process with uid 65534. That process keeps one capability,
// CAP_DAC_READ_SEARCH, only so that it can read this repository wherever it
// was cloned; it grants no write access, so cgroupfs treats it as the
// ordinary user it is.
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostState, leftSince } from '@nsk/testkit';
import { detectLayout, type Layout } from '../src/index.ts';
import { exists, leftoverGroups } from './helpers.ts';

const layout = detectLayout();
const root = layout.v2!.mountPoint;
const NOBODY = 65534;
const before = hostState();
const v1HierarchyOf = (l: Layout, c: string) => l.v1.find((h) => h.controllers.includes(c))?.mountPoint;
const fixture = fileURLToPath(new URL('fixtures/rootless.ts', import.meta.url));

test.after.always('no cgroup, process, mount or fd of this test is left', (t) => {
  t.deepEqual(leftoverGroups(), []);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});

/** Runs the fixture as uid 65534; `place(pid)` runs before it is told to go. */
async function asNobody(scenario: string, place?: (pid: number) => void): Promise<Record<string, any>> {
  const p = spawn('setpriv', [
    `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all,+dac_read_search', '--ambient-caps=+dac_read_search', '--',
    process.execPath, '--conditions=nsk-source', '--no-warnings=ExperimentalWarning', fixture, scenario,
  ], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (c: Buffer) => { out += c; });
  p.stderr.on('data', (c: Buffer) => { err += c; });
  place?.(p.pid!);
  p.stdin.end('go\n');
  const [code] = (await once(p, 'exit')) as [number];
  if (code !== 0) throw new Error(`fixture ${scenario} exited ${code}: ${err}`);
  return JSON.parse(out) as Record<string, any>;
}

test.serial('in a subtree delegated to it, a user without root makes a group, runs a container in it, freezes, kills and removes it', async (t) => {
  const name = `nsk-${process.pid}-delegated`;
  const d = join(root, name);
  mkdirSync(d);
  try {
    for (const f of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) chownSync(join(d, f), NOBODY, NOBODY);
    const r = await asNobody('delegated', (pid) => writeFileSync(join(d, 'cgroup.procs'), String(pid)));
    t.is(r.uid, NOBODY);
    t.is(r.own, `0::/${name}`);
    t.regex(r.path, new RegExp(`^/${name}/nsk-\\d+-1$`));
    t.is(r.childIn, `0::${r.path}`);
    t.regex(r.populated, /populated 1/);
    t.true(r.frozen);
    t.is(r.exit.signal, 'SIGKILL');
    t.false(r.leftAfter);
    // Limits need controllers: on a hybrid host they sit in v1, which nobody can delegate.
    t.is(r.withLimits.code, 'ERR_NSK_CGROUP_NOT_DELEGATED');
    t.is(r.withLimits.group, d);
    const pidsOnV1 = v1HierarchyOf(layout, 'pids');
    if (pidsOnV1) t.true(r.withLimits.missing.some((m: string) => m.includes(`bound to the cgroup v1 hierarchy at ${pidsOnV1}`)), r.withLimits.missing.join('\n'));
    else t.true(r.withLimits.missing.some((m: string) => /pids/.test(m)), r.withLimits.missing.join('\n'));
  } finally {
    rmdirSync(d);
  }
  t.false(exists(d));
});

test.serial('without a delegated subtree the error says what is missing: the group is root’s, not the caller’s', async (t) => {
  const r = await asNobody('outside');
  t.is(r.uid, NOBODY);
  t.is(r.outside.code, 'ERR_NSK_CGROUP_NOT_DELEGATED');
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
  t.is(r.outside.group, join(root, own));
  t.true(r.outside.missing.some((m: string) => m.startsWith(`ownership: ${join(root, own)} belongs to uid 0, not to you (uid ${NOBODY})`)), r.outside.missing.join('\n'));
  t.true(r.outside.missing.some((m: string) => m.startsWith('write access to')));
});
