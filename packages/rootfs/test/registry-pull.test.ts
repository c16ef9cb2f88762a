// Pulls from a real registry (Debian's docker-registry, distribution v2.8)
// on loopback, through a proxy that counts requests and redirects blob GETs,
// into a real ImageStore. The images are built and pushed by the test.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore, type Progress } from '../src/image/index.ts';
import {
  DigestMismatchError, InvalidReferenceError, ManifestUnknownError, NoMatchingPlatformError, pull, RegistryError,
} from '../src/registry/index.ts';
import { hostPlatform } from '../src/registry/platform.ts';
import {
  buildImage, buildIndex, busyboxLayer, DOCKER, layerOf, pushImage, pushIndex, type BuiltImage, type BuiltManifest, type Layer,
} from './registry-images.ts';
import { blobGets, startProxy, type Proxy } from './registry-proxy.ts';
import { startRegistry, type RegistryServer } from './registry-server.ts';

const base = mkdtempSync(join(tmpdir(), 'nsk-registry-pull-'));
const childrenBefore = children();
let registry: RegistryServer;
let proxy: Proxy;
let store: ImageStore;
const host = hostPlatform();

/** Children of this process (the registry while it runs). */
function children(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}

const img: Record<string, BuiltImage> = {};
let busybox: Layer;
let top: Layer;
let multi: BuiltManifest;
let list: BuiltManifest;

test.before(async () => {
  registry = await startRegistry({ storage: join(base, 'data'), dir: join(base, 'registry') });
  proxy = await startProxy(registry.url);
  store = new ImageStore({ root: join(base, 'store') });
  busybox = await busyboxLayer();
  top = await layerOf([{ name: 'etc/', type: 'directory' }, { name: 'etc/motd', content: 'layer two\n' }]);
  const otherTop = await layerOf([{ name: 'etc/', type: 'directory' }, { name: 'etc/motd', content: 'another top\n' }]);
  img.one = buildImage({ layers: [busybox, top], architecture: host.architecture, env: ['PATH=/bin', 'GREETING=one'], cmd: ['/bin/sh', '-c', 'cat /etc/motd'] });
  // Same layers, another config: pulling it must fetch no layer.
  img.same = buildImage({ layers: [busybox, top], architecture: host.architecture, env: ['PATH=/bin', 'GREETING=same'], cmd: ['/bin/echo', 'same'] });
  // Shares only the bottom layer.
  img.v2 = buildImage({ layers: [busybox, otherTop], architecture: host.architecture, cmd: ['/bin/sh'] });
  img.docker = buildImage({ layers: [await busyboxLayer(DOCKER.layer)], architecture: host.architecture, format: 'docker', cmd: ['/bin/true'] });
  // A fake other architecture: its one layer only says what it is.
  const other = host.architecture === 'arm64' ? { os: 'linux', architecture: 'amd64' } : { os: 'linux', architecture: 'arm64', variant: 'v8' };
  img.other = buildImage({ layers: [await layerOf([{ name: 'etc/', type: 'directory' }, { name: 'etc/arch', content: `${other.architecture}\n` }])], architecture: other.architecture, ...(other.variant ? { variant: other.variant } : {}) });
  multi = buildIndex([{ image: img.other, platform: other }, { image: img.one, platform: host }]);
  list = buildIndex([{ image: img.other, platform: other }, { image: img.docker, platform: host }], 'docker');
  const r = registry.url;
  await pushImage(r, 'nsk/busybox', '1', img.one);
  await pushImage(r, 'nsk/busybox', 'same', img.same);
  await pushImage(r, 'nsk/busybox', 'v2', img.v2);
  await pushImage(r, 'nsk/busybox', 'docker', img.docker);
  await pushIndex(r, 'nsk/busybox', 'multi', multi, [img.other, img.one]);
  await pushIndex(r, 'nsk/busybox', 'list', list, [img.other, img.docker]);
  img.tamper = buildImage({ layers: [await layerOf([{ name: 'x', content: 'x\n' }])], architecture: host.architecture });
  await pushImage(r, 'nsk/tamper', '1', img.tamper);
});

/** Safety net when a test failed before the last one could clean up. */
test.after.always(async () => {
  await proxy?.close();
  await registry?.stop();
  rmSync(base, { recursive: true, force: true });
});

/** The blob GETs `fn` caused (each one a 307 to the proxy's CDN path, then the GET there). */
async function counting<T>(fn: () => Promise<T>): Promise<{ value: T; blobs: string[]; cdn: number }> {
  const from = proxy.requests.length;
  const value = await fn();
  const seen = proxy.requests.slice(from);
  return { value, blobs: blobGets({ ...proxy, requests: seen }), cdn: seen.filter((r) => r.startsWith('GET /_cdn/')).length };
}

test.serial('a pull fetches the manifest, the config and each layer (following 307 redirects), and the store holds the image', async (t) => {
  const events: Progress[] = [];
  const name = `${proxy.host}/nsk/busybox:1`;
  const { value: image, blobs, cdn } = await counting(() => pull(name, { store, insecure: true, onProgress: (p) => events.push(p) }));
  t.is(image.id, img.one!.config.digest);
  t.deepEqual(image.names, [name]);
  t.deepEqual(image.layers, [busybox.diffId, top.diffId]);
  t.deepEqual(image.config.env, ['PATH=/bin', 'GREETING=one']);
  t.deepEqual(image.config.cmd, ['/bin/sh', '-c', 'cat /etc/motd']);
  t.is(image.config.architecture, host.architecture);
  t.deepEqual(blobs.sort(), [img.one!.config.digest, busybox.blob.digest, top.blob.digest].sort());
  t.is(cdn, 3, 'every blob was fetched from where the 307 pointed');
  t.is(store.get(name).id, image.id);
  // The layers are unpacked: the overlay's lower dirs (topmost first) hold the files.
  const rootfs = store.prepareRootfs(name, 'pull-test-1');
  try {
    t.is(rootfs.lower.length, 2);
    t.is(readFileSync(join(rootfs.lower[0]!, 'etc/motd'), 'utf8'), 'layer two\n');
    t.is(statSync(join(rootfs.lower[1]!, 'bin/busybox')).size, statSync('/bin/busybox').size);
    // Buffer.equals: ava's deepEqual takes seconds on 2 MB.
    t.true(readFileSync(join(rootfs.lower[1]!, 'bin/busybox')).equals(readFileSync('/bin/busybox')));
  } finally {
    rootfs.cleanup();
  }
  // Progress: resolving, then the store reading each layer's bytes up to its size.
  t.like(events[0], { phase: 'resolve', done: 0, total: 1, item: name });
  t.true(events.some((e) => e.phase === 'resolve' && e.done === 1));
  for (const l of [busybox, top]) {
    const mine = events.filter((e) => e.phase === 'layer' && e.item === l.blob.digest);
    t.like(mine.at(-1), { done: l.blob.size, total: l.blob.size });
  }
});

test.serial('a second tag with the same layers downloads and unpacks no layer: only its config', async (t) => {
  const lowerBefore = store.prepareRootfs(`${proxy.host}/nsk/busybox:1`, 'pull-test-2a');
  lowerBefore.cleanup();
  const events: Progress[] = [];
  const { value: image, blobs } = await counting(() => pull(`${proxy.host}/nsk/busybox:same`, { store, insecure: true, onProgress: (p) => events.push(p) }));
  t.deepEqual(blobs, [img.same!.config.digest]);
  t.deepEqual(events.filter((e) => e.phase === 'exists').map((e) => e.item), [busybox.blob.digest, top.blob.digest]);
  t.deepEqual(events.filter((e) => e.phase === 'layer'), [], 'no layer was read or unpacked');
  t.is(image.id, img.same!.config.digest);
  t.deepEqual(image.config.cmd, ['/bin/echo', 'same']);
  t.deepEqual(image.layers, [busybox.diffId, top.diffId]);
  const rootfs = store.prepareRootfs(`${proxy.host}/nsk/busybox:same`, 'pull-test-2b');
  rootfs.cleanup();
  t.deepEqual(rootfs.lower, lowerBefore.lower, 'both images use the same layer directories');
  // Sharing one layer: only the other one is fetched.
  const { blobs: v2 } = await counting(() => pull(`${proxy.host}/nsk/busybox:v2`, { store, insecure: true }));
  t.deepEqual(v2.sort(), [img.v2!.config.digest, img.v2!.layers[1]!.blob.digest].sort());
  // Pulling the same tag again fetches no blob at all.
  const { blobs: again } = await counting(() => pull(`${proxy.host}/nsk/busybox:1`, { store, insecure: true }));
  t.deepEqual(again, [img.one!.config.digest]);
});

test.serial('an OCI index resolves to the host platform, or to the one asked for; a Docker manifest list too', async (t) => {
  const mine = await pull(`${proxy.host}/nsk/busybox:multi`, { store, insecure: true });
  t.is(mine.id, img.one!.config.digest);
  const otherPlatform = { os: 'linux', architecture: host.architecture === 'arm64' ? 'amd64' : 'arm64' };
  const { value: theirs, blobs } = await counting(() => pull(`${proxy.host}/nsk/busybox:multi`, { store, insecure: true, platform: otherPlatform }));
  t.is(theirs.id, img.other!.config.digest);
  t.is(theirs.config.architecture, otherPlatform.architecture);
  t.deepEqual(blobs.sort(), [img.other!.config.digest, img.other!.layers[0]!.blob.digest].sort());
  const rootfs = store.prepareRootfs(theirs.id, 'pull-test-3');
  rootfs.cleanup();
  t.is(readFileSync(join(rootfs.lower[0]!, 'etc/arch'), 'utf8'), `${otherPlatform.architecture}\n`);
  // Docker's manifest list pointing at a schema 2 manifest with Docker layer media types.
  const docker = await pull(`${proxy.host}/nsk/busybox:list`, { store, insecure: true });
  t.is(docker.id, img.docker!.config.digest);
  t.deepEqual(docker.config.cmd, ['/bin/true']);
});

test.serial('a platform the index does not offer: NoMatchingPlatformError listing what it offers', async (t) => {
  const e = await t.throwsAsync(pull(`${proxy.host}/nsk/busybox:multi`, { store, insecure: true, platform: { os: 'linux', architecture: 's390x' } }), { instanceOf: NoMatchingPlatformError });
  t.is(e!.code, 'ERR_NSK_NO_MATCHING_PLATFORM');
  t.deepEqual(e!.offered.map((p) => p.architecture).sort(), [host.architecture, host.architecture === 'arm64' ? 'amd64' : 'arm64'].sort());
  t.regex(e!.message, /no manifest for linux\/s390x; the image offers linux\/\w+/);
  // A single-platform image asked for as another platform is refused too, by its config.
  await t.throwsAsync(pull(`${proxy.host}/nsk/busybox:1`, { store, insecure: true, platform: { os: 'linux', architecture: 's390x' } }), { instanceOf: NoMatchingPlatformError });
});

test.serial('pulled by digest: stored under name@digest; a manifest whose bytes do not match the digest is refused', async (t) => {
  const ref = `${proxy.host}/nsk/busybox@${img.one!.manifest.digest}`;
  const image = await pull(ref, { store, insecure: true });
  t.is(image.id, img.one!.config.digest);
  t.true(image.names.includes(ref));
  proxy.corrupt = (path) => path === `/v2/nsk/busybox/manifests/${img.one!.manifest.digest}`;
  try {
    const e = await t.throwsAsync(pull(ref, { store, insecure: true }), { instanceOf: DigestMismatchError });
    t.is(e!.expected, img.one!.manifest.digest);
  } finally {
    proxy.corrupt = undefined;
  }
});

test.serial('a config or layer blob that does not match its digest fails the pull and stores nothing', async (t) => {
  const before = store.list().map((i) => i.id).sort();
  const ref = `${proxy.host}/nsk/tamper:1`;
  proxy.corrupt = (path) => path.startsWith('/_cdn/') && path.includes('/nsk/tamper/');
  try {
    // The config comes first; the puller checks it.
    const e = await t.throwsAsync(pull(ref, { store, insecure: true }), { instanceOf: Error });
    t.is((e as { code?: string }).code, 'ERR_NSK_DIGEST_MISMATCH');
    // Only the layer corrupt: the store checks it while unpacking.
    const layer = img.tamper!.layers[0]!.blob.digest;
    proxy.corrupt = (path) => path === `/_cdn/v2/nsk/tamper/blobs/${layer}`;
    const e2 = await t.throwsAsync(pull(ref, { store, insecure: true }), { instanceOf: Error });
    t.is((e2 as { code?: string }).code, 'ERR_NSK_DIGEST_MISMATCH');
    t.regex(e2!.message, new RegExp(layer));
  } finally {
    proxy.corrupt = undefined;
  }
  t.deepEqual(store.list().map((i) => i.id).sort(), before);
});

test.serial('an unknown tag or repository: ManifestUnknownError with the registry\'s error code', async (t) => {
  const e = await t.throwsAsync(pull(`${proxy.host}/nsk/busybox:nope`, { store, insecure: true }), { instanceOf: ManifestUnknownError });
  t.is(e!.status, 404);
  t.deepEqual(e!.codes, ['MANIFEST_UNKNOWN']);
  t.is(e!.code, 'ERR_NSK_MANIFEST_UNKNOWN');
  t.regex(e!.message, /nsk\/busybox:nope: manifest unknown/);
  await t.throwsAsync(pull(`${proxy.host}/nsk/nothing-here:1`, { store, insecure: true }), { instanceOf: ManifestUnknownError });
  await t.throwsAsync(pull(`${proxy.host}/nsk/busybox@sha256:${'0'.repeat(64)}`, { store, insecure: true }), { instanceOf: ManifestUnknownError });
});

test.serial('a bad reference or bad options are refused before any request; an unreachable registry is a RegistryError', async (t) => {
  const seen = proxy.requests.length;
  await t.throwsAsync(pull(`${proxy.host}/NSK/Busybox`, { store, insecure: true }), { instanceOf: InvalidReferenceError });
  await t.throwsAsync(pull(`${proxy.host}/nsk/busybox:1`, { store, insecure: true, platform: { os: 'linux' } as never }), { message: /platform: needs os and architecture/ });
  await t.throwsAsync(pull(`${proxy.host}/nsk/busybox:1`, { store: {} as never, insecure: true }), { message: /store: an ImageStore/ });
  t.is(proxy.requests.length, seen);
  // A port nobody listens on (bound and closed again).
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  const e = await t.throwsAsync(pull(`127.0.0.1:${port}/x:1`, { store, insecure: true }), { instanceOf: RegistryError });
  t.is(e!.code, 'ERR_NSK_REGISTRY_UNREACHABLE');
  t.regex(e!.message, /ECONNREFUSED/);
});

test.serial('a connection reset before any answer is retried once for a GET; twice is an error', async (t) => {
  // A server that drops the connection of the first `drops` requests without answering, then answers 404s.
  const seen: string[] = [];
  let drops = 1;
  const s = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (drops-- > 0) { req.socket.destroy(); return; }
    res.writeHead(req.url === '/v2/' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(req.url === '/v2/' ? '{}' : JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const where = `127.0.0.1:${(s.address() as AddressInfo).port}`;
  try {
    await t.throwsAsync(pull(`${where}/x:1`, { store, insecure: true }), { instanceOf: ManifestUnknownError });
    t.deepEqual(seen, ['GET /v2/', 'GET /v2/', 'GET /v2/x/manifests/1']);
    seen.length = 0;
    drops = 2;
    const e = await t.throwsAsync(pull(`${where}/x:1`, { store, insecure: true }), { instanceOf: RegistryError });
    t.is(e!.code, 'ERR_NSK_REGISTRY_UNREACHABLE');
    t.deepEqual(seen, ['GET /v2/', 'GET /v2/']);
  } finally {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

test.serial('nothing is left behind: no registry process, no proxy, no files', async (t) => {
  const pid = registry.pid;
  await proxy.close();
  await registry.stop();
  rmSync(base, { recursive: true, force: true });
  t.false(existsSync(`/proc/${pid}`));
  t.deepEqual(children(), childrenBefore);
  t.false(existsSync(base));
});
