// The arguments of one command, on node:util parseArgs, docker's way:
// options come first; the first positional (an image, a container's name)
// or `--` ends them, and everything after belongs to the command inside
// (`nsk exec web ls -l` passes `-l` to ls).
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { UsageError } from './errors.ts';

export interface OptionHelp {
  /** The value's placeholder in the usage text: `K=V`. Absent for flags. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  /** `run`, `ps` … */
  name: string;
  /** One line after `usage: nsk NAME `: `[OPTIONS] NAME -- COMMAND [ARG...]`. */
  synopsis: string;
  summary: string;
  options: ParseArgsOptionsConfig;
  help: Record<string, OptionHelp>;
  /** True when options stop at the first positional (run, exec). */
  stopAtPositional?: boolean;
}

export interface Parsed<V = Record<string, string | boolean | string[] | boolean[] | undefined>> {
  values: V;
  /** Positionals before `--` (or all of them without `--`). */
  positionals: string[];
  /** The arguments after `--`, or null when there was none. */
  afterDashes: string[] | null;
}

/** The help text: usage line, summary, one line per option. */
export function usage(spec: CommandSpec): string {
  const lines = [`usage: nsk ${spec.name} ${spec.synopsis}`, '', spec.summary, ''];
  const rows: [string, string][] = [];
  for (const [long, o] of Object.entries(spec.options)) {
    const h = spec.help[long];
    if (!h) continue;
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${long}${h.value ? ` ${h.value}` : ''}`;
    rows.push([flag, h.help + (o.multiple ? ' (repeatable)' : '')]);
  }
  rows.push(['-h, --help', 'print this help']);
  const w = Math.max(...rows.map(([f]) => f.length));
  for (const [f, h] of rows) lines.push(`  ${f.padEnd(w)}  ${h}`);
  return lines.join('\n');
}

function fail(spec: CommandSpec, message: string): never {
  throw new UsageError(`nsk ${spec.name}: ${message}\nSee 'nsk ${spec.name} --help'.`);
}

/** Where the options end: the index of `--` or of the first positional (when the command stops there). */
function optionsEnd(spec: CommandSpec, argv: string[]): number {
  const options = { ...spec.options, help: { type: 'boolean' as const, short: 'h' } };
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'option-terminator') return t.index;
    if (t.kind === 'positional' && spec.stopAtPositional) return t.index;
  }
  return argv.length;
}

/**
 * Parses `argv` (what follows `nsk NAME`). Unknown flags, missing values and
 * repeated single flags are UsageErrors (exit 125) naming the command.
 * Returns null when -h/--help was asked for.
 */
export function parse<V>(spec: CommandSpec, argv: string[]): Parsed<V> | null {
  const end = optionsEnd(spec, argv);
  const head = argv.slice(0, end);
  const tail = argv.slice(end);
  const options = { ...spec.options, help: { type: 'boolean' as const, short: 'h' } };
  let parsed;
  try {
    parsed = parseArgs({ args: head, options, strict: true, allowPositionals: !spec.stopAtPositional, tokens: true });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    const m = /'([^']+)'/.exec((err as Error).message);
    const what = m?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') fail(spec, `unknown flag ${what}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      // "Option '-e, --env <value>' argument missing", "… argument is ambiguous" (the next word is a flag), "Option '--rm' does not take an argument".
      const flag = (/Option '([^']+)'/.exec((err as Error).message)?.[1] ?? what).replace(/ <value>$/, '').replace(/^-\w, /, '');
      if ((err as Error).message.includes('does not take an argument')) fail(spec, `flag ${flag} takes no value`);
      fail(spec, `flag ${flag} needs a value`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') fail(spec, `unexpected argument ${what}`);
    throw err;
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.help) return null;
  // parseArgs keeps the last of a repeated single-valued flag; say so instead.
  const seen = new Set<string>();
  type OptionToken = { kind: 'option'; name: string; rawName: string; value?: string; inlineValue?: boolean };
  for (const t of (parsed.tokens ?? []) as Array<OptionToken | { kind: 'positional' | 'option-terminator' }>) {
    if (t.kind !== 'option') continue;
    const o = spec.options[t.name];
    if (o && !o.multiple && o.type === 'string') {
      if (seen.has(t.name)) fail(spec, `flag --${t.name} given twice`);
      seen.add(t.name);
    }
    // `--name=` or `-e ''`: an empty value is never what was meant.
    if (o?.type === 'string' && t.value === '') fail(spec, `flag ${t.rawName} needs a non-empty value`);
  }
  const dashes = tail[0] === '--' ? 0 : tail.indexOf('--');
  const positionals = [...parsed.positionals, ...(dashes === -1 ? tail : tail.slice(0, dashes))];
  const afterDashes = dashes === -1 ? null : tail.slice(dashes + 1);
  return { values: values as V, positionals, afterDashes };
}

/** Fails unless there are exactly `n` positionals (before `--`). */
export function expectPositionals(spec: CommandSpec, p: Parsed<unknown>, names: string[], opts: { min?: number } = {}): void {
  const min = opts.min ?? names.length;
  if (p.positionals.length < min) fail(spec, `missing ${names.slice(p.positionals.length, min).join(' ')}`);
  if (p.positionals.length > names.length) fail(spec, `unexpected argument ${p.positionals[names.length]!}`);
  if (p.afterDashes !== null && p.afterDashes.length > 0) fail(spec, `unexpected argument ${p.afterDashes[0]!}`);
}

export { fail as usageFail };

/** Prints the command's help on stdout; the exit status of `--help`. */
export function printUsage(spec: CommandSpec): number {
  process.stdout.write(`${usage(spec)}\n`);
  return 0;
}
