// The image config (image-spec config.md; Docker's image JSON is the same
// for the fields read here): the defaults a container takes, and
// rootfs.diff_ids, the sha256 of each layer's uncompressed tar, bottom first.
import { ImageFormatError } from './errors.ts';
import { digestHex } from './digest.ts';
import type { ImageConfig } from './types.ts';

export interface ParsedConfig {
  config: ImageConfig;
  diffIds: string[];
  created: string;
}

/** The Go-style names images use for this machine (config.md: GOOS, GOARCH). */
export function hostPlatform(): { os: string; architecture: string; variant?: string } {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };
  const architecture = arch[process.arch] ?? process.arch;
  return architecture === 'arm64' ? { os: 'linux', architecture, variant: 'v8' } : { os: 'linux', architecture };
}

function strings(source: string, field: string, v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new ImageFormatError(source, `config ${field} must be a list of strings`);
  return v;
}

function str(source: string, field: string, v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ImageFormatError(source, `config ${field} must be a string`);
  return v;
}

/** Parses a config blob. Throws ImageFormatError naming `source` on anything malformed. */
export function parseImageConfig(bytes: Uint8Array, source: string): ParsedConfig {
  let j: unknown;
  try {
    j = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new ImageFormatError(source, `the image config is not JSON: ${(e as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new ImageFormatError(source, 'the image config is not a JSON object');
  const o = j as Record<string, unknown>;
  const rootfs = o.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  if (typeof rootfs !== 'object' || rootfs === null || rootfs.type !== 'layers') throw new ImageFormatError(source, 'config rootfs.type must be "layers"');
  const diffIds = strings(source, 'rootfs.diff_ids', rootfs.diff_ids);
  for (const d of diffIds) if (digestHex(d) === null) throw new ImageFormatError(source, `config rootfs.diff_ids holds ${JSON.stringify(d)}, not a sha256 digest`);
  const c = (o.config ?? {}) as Record<string, unknown>;
  if (typeof c !== 'object' || Array.isArray(c)) throw new ImageFormatError(source, 'config.config must be an object');
  const ports = c.ExposedPorts ?? {};
  if (typeof ports !== 'object' || ports === null || Array.isArray(ports)) throw new ImageFormatError(source, 'config ExposedPorts must be an object');
  // config.md: "port/tcp", "port/udp" or "port" (tcp implied).
  const exposedPorts = Object.keys(ports).map((p) => (p.includes('/') ? p : `${p}/tcp`));
  return {
    config: {
      env: strings(source, 'Env', c.Env),
      entrypoint: strings(source, 'Entrypoint', c.Entrypoint),
      cmd: strings(source, 'Cmd', c.Cmd),
      workingDir: str(source, 'WorkingDir', c.WorkingDir),
      user: str(source, 'User', c.User),
      exposedPorts,
      architecture: str(source, 'architecture', o.architecture),
      os: str(source, 'os', o.os),
    },
    diffIds,
    created: str(source, 'created', o.created) || new Date(0).toISOString(),
  };
}

/** The PATH a shell gets when the image names none (Docker's default). */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * A config for a flat filesystem tarball (`docker export`), which carries
 * none: one layer, the host's platform, `/bin/sh` as the command — what
 * `docker import` makes, plus a PATH.
 */
export function flatConfig(diffId: string, created: Date = new Date()): Uint8Array {
  const p = hostPlatform();
  const config = {
    created: created.toISOString(),
    architecture: p.architecture,
    ...(p.variant ? { variant: p.variant } : {}),
    os: p.os,
    config: { Env: [DEFAULT_PATH], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: created.toISOString(), created_by: 'nsk import (a flat filesystem tarball)' }],
  };
  return Buffer.from(JSON.stringify(config));
}
