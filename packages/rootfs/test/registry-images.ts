// Test images built here, byte for byte, and pushed to a registry over the
// distribution API ("Pushing blobs": POST /v2/NAME/blobs/uploads/ then PUT
// LOCATION?digest=; "Pushing manifests": PUT /v2/NAME/manifests/REF).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface Blob { mediaType: string; digest: string; size: number; bytes: Buffer }
export interface Layer { blob: Blob; diffId: string; tar: Buffer }
export interface BuiltManifest { mediaType: string; digest: string; size: number; bytes: Buffer }
export interface BuiltImage { config: Blob; layers: Layer[]; manifest: BuiltManifest }

export const OCI = {
  index: 'application/vnd.oci.image.index.v1+json', manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json', layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
};
export const DOCKER = {
  index: 'application/vnd.docker.distribution.manifest.list.v2+json', manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json', layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
};

export function sha256(b: Uint8Array): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

export function blobOf(bytes: Buffer, mediaType: string): Blob {
  return { mediaType, digest: sha256(bytes), size: bytes.length, bytes };
}

export interface Entry { name: string; type?: 'file' | 'directory' | 'symlink'; content?: Buffer | string; mode?: number; linkname?: string }

/** An uncompressed tar of `entries`, in order, with a fixed mtime so the bytes (and digests) are the same every run. */
export async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const mtime = new Date('2024-01-01T00:00:00Z');
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = { name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), mtime, uid: 0, gid: 0, ...(e.linkname ? { linkname: e.linkname } : {}) };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => err ? reject(err) : resolve();
      if (type === 'file') pack.entry(header, Buffer.from(e.content ?? ''), cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export async function layerOf(entries: Entry[], mediaType = OCI.layer): Promise<Layer> {
  const t = await tarOf(entries);
  return { tar: t, diffId: sha256(t), blob: blobOf(gzipSync(t, { level: 1 }), mediaType) };
}

/** A tiny busybox rootfs: /bin/busybox (the host's static one), /bin/sh → busybox, /etc/passwd. */
export async function busyboxLayer(mediaType = OCI.layer): Promise<Layer> {
  return layerOf([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', content: readFileSync('/bin/busybox'), mode: 0o755 },
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
  ], mediaType);
}

export interface ImageSpec {
  layers: Layer[];
  architecture?: string;
  variant?: string;
  env?: string[];
  cmd?: string[];
  /** 'oci' (default) or 'docker' (schema 2) media types. */
  format?: 'oci' | 'docker';
}

export function buildImage(spec: ImageSpec): BuiltImage {
  const types = spec.format === 'docker' ? DOCKER : OCI;
  const configJson = {
    created: '2024-01-01T00:00:00Z',
    architecture: spec.architecture ?? 'amd64',
    ...(spec.variant ? { variant: spec.variant } : {}),
    os: 'linux',
    config: { Env: spec.env ?? ['PATH=/bin'], Cmd: spec.cmd ?? ['/bin/sh'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: spec.layers.map((l) => l.diffId) },
    history: spec.layers.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'nsk test' })),
  };
  const config = blobOf(Buffer.from(JSON.stringify(configJson)), types.config);
  const manifestJson = {
    schemaVersion: 2,
    mediaType: types.manifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: spec.layers.map((l) => ({ mediaType: l.blob.mediaType, digest: l.blob.digest, size: l.blob.size })),
  };
  const bytes = Buffer.from(JSON.stringify(manifestJson, null, 2));
  return { config, layers: spec.layers, manifest: { mediaType: types.manifest, digest: sha256(bytes), size: bytes.length, bytes } };
}

export function buildIndex(entries: { image: BuiltImage; platform: { os: string; architecture: string; variant?: string } }[], format: 'oci' | 'docker' = 'oci'): BuiltManifest {
  const types = format === 'docker' ? DOCKER : OCI;
  const json = {
    schemaVersion: 2,
    mediaType: types.index,
    manifests: entries.map((e) => ({ mediaType: e.image.manifest.mediaType, digest: e.image.manifest.digest, size: e.image.manifest.size, platform: e.platform })),
  };
  const bytes = Buffer.from(JSON.stringify(json, null, 2));
  return { mediaType: types.index, digest: sha256(bytes), size: bytes.length, bytes };
}

async function ok(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

/** Monolithic upload: POST for an upload session, PUT the bytes with ?digest=. Skipped when the blob is there (HEAD 200). */
export async function pushBlob(base: string, repo: string, blob: Blob): Promise<void> {
  const head = await fetch(`${base}/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD' });
  if (head.status === 200) return;
  const post = await ok(await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' }), `POST upload ${repo}`);
  await post.body?.cancel();
  const location = new URL(post.headers.get('location')!, base);
  location.searchParams.set('digest', blob.digest);
  const put = await ok(await fetch(location, {
    method: 'PUT', body: blob.bytes, headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
  }), `PUT blob ${blob.digest}`);
  await put.body?.cancel();
}

export async function pushManifest(base: string, repo: string, ref: string, m: BuiltManifest): Promise<void> {
  const res = await ok(await fetch(`${base}/v2/${repo}/manifests/${ref}`, {
    method: 'PUT', body: m.bytes, headers: { 'content-type': m.mediaType },
  }), `PUT manifest ${repo}:${ref}`);
  await res.body?.cancel();
  const digest = res.headers.get('docker-content-digest');
  if (digest !== m.digest) throw new Error(`registry stored ${repo}:${ref} as ${digest}, expected ${m.digest}`);
}

/** Layers, config, then the manifest under `tag` (or only by digest when tag is undefined). */
export async function pushImage(base: string, repo: string, tag: string | undefined, image: BuiltImage): Promise<void> {
  for (const l of image.layers) await pushBlob(base, repo, l.blob);
  await pushBlob(base, repo, image.config);
  await pushManifest(base, repo, tag ?? image.manifest.digest, image.manifest);
}

/** The images, then the index (the registry checks that every manifest an index names exists). */
export async function pushIndex(base: string, repo: string, tag: string, index: BuiltManifest, images: BuiltImage[]): Promise<void> {
  for (const img of images) await pushImage(base, repo, undefined, img);
  await pushManifest(base, repo, tag, index);
}
