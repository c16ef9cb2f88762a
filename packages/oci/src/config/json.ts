// Reading config.json: every field checked by its JSON path, so an error
// says `linux.namespaces[2].type`, not "invalid config".
import { ValidationError } from '@nsk/syscall';

/** A ValidationError whose field is the JSON path of the bad value. */
export function bad(path: string, message: string): never {
  throw new ValidationError(path, message);
}

export type Json = Record<string, unknown>;

export function object(path: string, v: unknown): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(path, `must be an object, not ${JSON.stringify(v)}`);
  return v as Json;
}

export function optObject(path: string, v: unknown): Json | undefined {
  return v === undefined || v === null ? undefined : object(path, v);
}

export function string(path: string, v: unknown): string {
  if (typeof v !== 'string' || v.includes('\0')) bad(path, `must be a string without NUL bytes, not ${JSON.stringify(v)}`);
  return v as string;
}

export function optString(path: string, v: unknown): string | undefined {
  return v === undefined ? undefined : string(path, v);
}

export function bool(path: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') bad(path, `must be true or false, not ${JSON.stringify(v)}`);
  return v as boolean;
}

export function integer(path: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(path, `must be a whole number${min > -Infinity ? ` ≥ ${min}` : ''}${max < Infinity ? ` ≤ ${max}` : ''}, not ${JSON.stringify(v)}`);
  return v as number;
}

export function optInteger(path: string, v: unknown, min?: number, max?: number): number | undefined {
  return v === undefined || v === null ? undefined : integer(path, v, min, max);
}

export function array(path: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) bad(path, `must be a list, not ${JSON.stringify(v)}`);
  return v as unknown[];
}

export function strings(path: string, v: unknown): string[] {
  return array(path, v).map((s, i) => string(`${path}[${i}]`, s));
}

export function absolute(path: string, v: unknown): string {
  const s = string(path, v);
  if (!s.startsWith('/')) bad(path, `must be an absolute path: ${JSON.stringify(s)}`);
  return s;
}

/** Keys this runtime knows for an object; anything else fails by name (never ignored silently). */
export function known(path: string, o: Json, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) bad(path ? `${path}.${k}` : k, 'not supported by nsk-runtime (or not a runtime-spec field)');
}

/** A field this runtime cannot honor: fails when it is set to anything but empty. */
export function unsupported(path: string, v: unknown, why: string): void {
  if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v as object).length === 0)) return;
  bad(path, `cannot be honored: ${why}`);
}
