// nsk doctor: which kernel features this host offers nsk.
import { expectPositionals, parse, printUsage, type CommandSpec } from '../args.ts';
import type { Check } from '../doctor-checks.ts';

export const spec: CommandSpec = {
  name: 'doctor',
  synopsis: '[--json]',
  summary: 'Checks the kernel features nsk builds on: each namespace, user namespaces for\nunprivileged users, cgroups, seccomp, overlay, newuidmap and /etc/subuid,\nbusybox-static. Says what each enables and how to fix what is missing.',
  options: { json: { type: 'boolean' } },
  help: { json: { help: 'print the checks as JSON' } },
};

export function format(checks: readonly Check[]): string {
  const lines: string[] = [];
  let group = '';
  for (const c of checks) {
    if (c.group !== group) {
      if (group) lines.push('');
      lines.push(c.group);
      group = c.group;
    }
    lines.push(`  ${c.ok ? '✔' : '✘'} ${c.name}: ${c.found}`);
    lines.push(`      ${c.ok ? 'enables' : 'needed for'} ${c.enables}`);
    if (c.fix) lines.push(`      fix: ${c.fix}`);
  }
  const missing = checks.filter((c) => !c.ok).length;
  lines.push('', missing ? `${missing} of ${checks.length} missing.` : `All ${checks.length} present.`);
  return lines.join('\n');
}

export async function command(argv: string[]): Promise<number> {
  const p = parse<{ json?: boolean }>(spec, argv);
  if (!p) return printUsage(spec);
  expectPositionals(spec, p, []);
  const { doctor } = await import('../doctor-checks.ts');
  const checks = await doctor();
  process.stdout.write(p.values.json ? `${JSON.stringify(checks, null, 2)}\n` : `${format(checks)}\n`);
  return 0;
}
