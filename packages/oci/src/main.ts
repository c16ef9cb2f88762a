#!/usr/bin/env node
// nsk-runtime: runc's command line over @nsk packages.
//   nsk-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND [OPTIONS] ID …
// Its static imports are only what parsing the command line needs; the
// compile cache is turned on before any other module is loaded.
import { useCompileCache } from '@nsk/syscall/compile-cache';
import { appendFileSync } from 'node:fs';
import { DEFAULT_ROOT } from './runtime/root.ts';
import { value, type Global, type Parsed } from './commands/context.ts';

useCompileCache();
// Commands are loaded on demand: a `state` or `kill` need not load the
// plan builder, seccomp compiler and every feature package (Node start-up
// is most of a command's time).
const lifecycle = () => import('./commands/lifecycle.ts');

/** Per command: options taking a value, and flags (aliases map to the long name). */
const COMMANDS: Record<string, { values: string[]; flags: string[] }> = {
  create: { values: ['bundle', 'pid-file', 'console-socket', 'preserve-fds'], flags: ['no-pivot', 'no-new-keyring'] },
  run: { values: ['bundle', 'pid-file', 'console-socket', 'preserve-fds'], flags: ['no-pivot', 'no-new-keyring', 'detach'] },
  start: { values: [], flags: [] },
  state: { values: [], flags: [] },
  kill: { values: [], flags: ['all'] },
  delete: { values: [], flags: ['force'] },
  list: { values: ['format'], flags: ['quiet'] },
  ps: { values: ['format'], flags: [] },
  exec: { values: ['process', 'pid-file', 'console-socket', 'cwd', 'env', 'preserve-fds', 'user', 'additional-gids', 'process-label', 'apparmor', 'cap'], flags: ['detach', 'tty', 'no-new-privs', 'no-subreaper', 'ignore-paused'] },
  pause: { values: [], flags: [] },
  resume: { values: [], flags: [] },
  features: { values: [], flags: [] },
  update: { values: ['resources', 'memory', 'memory-swap', 'memory-reservation', 'pids-limit', 'cpu-quota', 'cpu-period', 'cpu-share', 'cpu-shares', 'cpu-burst', 'cpu-rt-period', 'cpu-rt-runtime', 'cpu-idle', 'cpuset-cpus', 'cpuset-mems', 'blkio-weight', 'l3-cache-schema', 'mem-bw-schema'], flags: [] },
};
const ALIASES: Record<string, string> = { b: 'bundle', d: 'detach', t: 'tty', f: 'force', a: 'all', p: 'process', e: 'env', q: 'quiet', u: 'user', c: 'cap', g: 'additional-gids', r: 'resources' };

/** A bad command line (not an NskError: that would load @nsk/syscall's koffi bindings to parse argv). */
class UsageError extends Error {
  readonly code = 'ERR_NSK_USAGE';
}

function parse(cmd: string, argv: string[]): Parsed {
  const spec = COMMANDS[cmd]!;
  const p: Parsed = { flags: new Set(), values: new Map(), args: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { p.args.push(...argv.slice(i + 1)); break; }
    if (p.args.length && cmd === 'exec') { p.args.push(...argv.slice(i)); break; } // the command's own args
    if (!a.startsWith('-') || a === '-') { p.args.push(a); continue; }
    let name = a.replace(/^--?/, '');
    let v: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) { v = name.slice(eq + 1); name = name.slice(0, eq); }
    name = ALIASES[name] ?? name;
    if (spec.flags.includes(name)) { if (v === undefined || v === 'true') p.flags.add(name); continue; }
    if (!spec.values.includes(name)) throw new UsageError(`${cmd}: unknown option ${a}`);
    if (v === undefined) { v = argv[++i]; if (v === undefined) throw new UsageError(`${cmd}: ${a} needs a value`); }
    p.values.set(name, [...(p.values.get(name) ?? []), v]);
  }
  return p;
}

function one(cmd: string, p: Parsed, extra = 0): string {
  if (p.args.length < 1 || (cmd !== 'exec' && p.args.length > 1 + extra)) throw new UsageError(`${cmd}: give the container id${extra ? ' (and a signal)' : ''}`);
  return p.args[0]!;
}

function log(g: Global, level: string, msg: string): void {
  if (g.log) {
    const line = g.logFormat === 'json' ? `${JSON.stringify({ level, msg, time: new Date().toISOString() })}\n` : `time="${new Date().toISOString()}" level=${level} msg="${msg.replace(/"/g, '\\"')}"\n`;
    try { appendFileSync(g.log, line); } catch { /* the log is best effort */ }
  }
}

function preserve(p: Parsed): number {
  const v = value(p, 'preserve-fds');
  if (v === undefined) return 0;
  if (!/^\d+$/.test(v)) throw new UsageError(`--preserve-fds: not a number: ${v}`);
  return Number(v);
}

async function main(argv: string[]): Promise<number> {
  const g: Global = { root: DEFAULT_ROOT, log: null, logFormat: 'text', debug: false };
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    let a = argv[i]!;
    let v: string | undefined;
    const eq = a.indexOf('=');
    if (eq >= 0) { v = a.slice(eq + 1); a = a.slice(0, eq); }
    const need = () => v ?? argv[++i] ?? (() => { throw new UsageError(`${a} needs a value`); })();
    if (a === '--root') g.root = need();
    else if (a === '--log') g.log = need();
    else if (a === '--log-format') { const f = need(); if (f !== 'text' && f !== 'json') throw new UsageError(`--log-format: text or json, not ${f}`); g.logFormat = f; }
    else if (a === '--debug') g.debug = true;
    else if (a === '--systemd-cgroup') { if (v !== 'false') throw new UsageError('--systemd-cgroup: nsk-runtime manages cgroupfs directly; systemd cgroups are not supported (use the cgroupfs cgroup manager)'); }
    else if (a === '--rootless') { const r = need(); if (r !== 'auto' && r !== 'false' && r !== 'true') throw new UsageError(`--rootless: true, false or auto`); }
    else if (a === '--criu') need();
    else if (a === '--version' || a === '-v') { process.stdout.write('nsk-runtime version 0.1.0\nspec: 1.2.0\n'); return 0; }
    else if (a === '--help' || a === '-h') { process.stdout.write(`usage: nsk-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] ${Object.keys(COMMANDS).join('|')} …\n`); return 0; }
    else throw new UsageError(`unknown global option ${a}`);
  }
  const cmd = argv[i];
  if (cmd === undefined || !COMMANDS[cmd]) throw new UsageError(`${cmd === undefined ? 'give a command' : `unknown command ${cmd}`} (${Object.keys(COMMANDS).join(', ')})`);
  const p = parse(cmd, argv.slice(i + 1));
  log(g, 'debug', `${cmd} ${argv.slice(i + 1).join(' ')}`);
  const print = (x: unknown) => process.stdout.write(`${JSON.stringify(x, null, 2)}\n`);
  switch (cmd) {
    case 'create':
    case 'run': {
      const id = one(cmd, p);
      const { create } = await import('./commands/create.ts');
      const { start, remove } = await lifecycle();
      await create(g, id, { bundle: value(p, 'bundle') ?? '.', preserveFds: preserve(p), noPivot: p.flags.has('no-pivot'), ...(value(p, 'pid-file') ? { pidFile: value(p, 'pid-file')! } : {}), ...(value(p, 'console-socket') ? { consoleSocket: value(p, 'console-socket')! } : {}) });
      if (cmd === 'create') return 0;
      await start(g, id);
      if (p.flags.has('detach')) return 0;
      const s = (await import('./runtime/state.ts')).load(g.root, id);
      while ((await import('./runtime/state.ts')).alive(s)) await new Promise((r) => setTimeout(r, 10));
      await remove(g, id, true);
      return 0;
    }
    case 'start': await (await lifecycle()).start(g, one(cmd, p)); return 0;
    case 'state': print((await lifecycle()).state(g, one(cmd, p))); return 0;
    case 'kill': (await lifecycle()).kill(g, one(cmd, p, 1), p.args[1] ?? 'SIGTERM', p.flags.has('all')); return 0;
    case 'delete': await (await lifecycle()).remove(g, one(cmd, p), p.flags.has('force')); return 0;
    case 'pause': (await lifecycle()).pause(g, one(cmd, p), true); return 0;
    case 'resume': (await lifecycle()).pause(g, one(cmd, p), false); return 0;
    case 'features': print((await import('./commands/features.ts')).features()); return 0;
    case 'ps': {
      const pids = (await lifecycle()).ps(g, one(cmd, p));
      if (value(p, 'format') === 'json') process.stdout.write(`${JSON.stringify(pids)}\n`);
      else process.stdout.write(`PID\n${pids.join('\n')}${pids.length ? '\n' : ''}`);
      return 0;
    }
    case 'list': {
      const all = (await lifecycle()).list(g);
      if (value(p, 'format') === 'json') process.stdout.write(`${JSON.stringify(all)}\n`);
      else if (p.flags.has('quiet')) process.stdout.write(all.map((s) => `${s.id}\n`).join(''));
      else process.stdout.write(['ID\tPID\tSTATUS\tBUNDLE\tCREATED', ...all.map((s) => `${s.id}\t${s.pid}\t${s.status}\t${s.bundle}\t${s.created}`)].join('\n') + '\n');
      return 0;
    }
    case 'exec': {
      for (const k of ['process-label', 'apparmor']) if (p.values.has(k)) throw new UsageError(`exec: --${k} is not supported by nsk-runtime (give a --process file)`);
      const id = one(cmd, p);
      const { exec } = await import('./commands/exec.ts');
      return exec(g, id, {
        args: p.args.slice(1), env: p.values.get('env') ?? [], tty: p.flags.has('tty'), detach: p.flags.has('detach'), preserveFds: preserve(p),
        ...(value(p, 'process') ? { process: value(p, 'process')! } : {}),
        ...(value(p, 'cwd') ? { cwd: value(p, 'cwd')! } : {}),
        ...(value(p, 'pid-file') ? { pidFile: value(p, 'pid-file')! } : {}),
        ...(value(p, 'console-socket') ? { consoleSocket: value(p, 'console-socket')! } : {}),
        ...(value(p, 'user') !== undefined ? { user: value(p, 'user')! } : {}),
        additionalGids: p.values.get('additional-gids') ?? [], caps: p.values.get('cap') ?? [], noNewPrivs: p.flags.has('no-new-privs'),
      });
    }
    case 'update': {
      checked = 'resources';
      const id = one(cmd, p);
      const set = Object.fromEntries([...p.values].filter(([k]) => k !== 'resources').map(([k, v]) => [k, v.at(-1)!]));
      (await import('./commands/update.ts')).update(g, id, { set, ...(value(p, 'resources') !== undefined ? { resources: value(p, 'resources')! } : {}) });
      return 0;
    }
  }
  return 1;
}

/** What a ValidationError is about: config.json, or update's resources request. */
let checked: 'config' | 'resources' = 'config';

let g0: Global = { root: DEFAULT_ROOT, log: null, logFormat: 'text', debug: false };
{
  const a = process.argv.slice(2);
  const li = a.findIndex((x) => x === '--log' || x.startsWith('--log='));
  const fi = a.findIndex((x) => x === '--log-format' || x.startsWith('--log-format='));
  const val = (k: number) => (a[k]!.includes('=') ? a[k]!.slice(a[k]!.indexOf('=') + 1) : a[k + 1]);
  g0 = { ...g0, log: li >= 0 ? val(li) ?? null : null, logFormat: fi >= 0 && val(fi) === 'json' ? 'json' : 'text' };
}
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (err: unknown) => {
    const e = err as Error;
    const { ValidationError } = await import('@nsk/syscall');
    const msg = err instanceof ValidationError ? `invalid ${checked}: ${e.message}` : e.message ?? String(err);
    log(g0, 'error', msg);
    process.stderr.write(`nsk-runtime: ${msg}\n`);
    process.exit(1);
  },
);
