// What every command gets: the global options.
export interface Global {
  root: string;
  log: string | null;
  logFormat: 'text' | 'json';
  debug: boolean;
}

/** A command's own options: flags seen, values by name, the positional arguments. */
export interface Parsed {
  flags: Set<string>;
  values: Map<string, string[]>;
  args: string[];
}

export const value = (p: Parsed, name: string): string | undefined => p.values.get(name)?.at(-1);
