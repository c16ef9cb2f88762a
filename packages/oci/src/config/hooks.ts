// config.json `hooks`: programs the runtime runs at points of the
// lifecycle, each given the container's state JSON on stdin.
import { absolute, array, known, object, optInteger, optObject, strings, bad, type Json } from './json.ts';

export interface Hook { path: string; args: string[]; env: string[]; timeout: number | null }
export type HookPoint = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';
export type Hooks = Record<HookPoint, Hook[]>;

const POINTS: readonly HookPoint[] = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

export function checkHooks(v: unknown): Hooks {
  const h: Json = optObject('hooks', v) ?? {};
  known('hooks', h, POINTS);
  const out = {} as Hooks;
  for (const point of POINTS) {
    out[point] = h[point] === undefined || h[point] === null ? [] : array(`hooks.${point}`, h[point]).map((x, i) => {
      const f = `hooks.${point}[${i}]`;
      const o = object(f, x);
      known(f, o, ['path', 'args', 'env', 'timeout']);
      const timeout = optInteger(`${f}.timeout`, o.timeout) ?? null;
      if (timeout !== null && timeout <= 0) bad(`${f}.timeout`, 'must be > 0 seconds');
      return { path: absolute(`${f}.path`, o.path), args: o.args === undefined ? [] : strings(`${f}.args`, o.args), env: o.env === undefined ? [] : strings(`${f}.env`, o.env), timeout };
    });
  }
  return out;
}
