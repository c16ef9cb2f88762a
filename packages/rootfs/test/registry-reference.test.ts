// The pure parts of a pull, no network: references, auth challenges,
// manifests, and choosing a platform out of an index.
import test from 'ava';
import { InvalidReferenceError, NoMatchingPlatformError, parseReference, UnsupportedManifestError } from '../src/registry/index.ts';
import { parseChallenges } from '../src/registry/challenge.ts';
import { parseManifest, type Descriptor } from '../src/registry/manifest.ts';
import { hostPlatform, selectPlatform } from '../src/registry/platform.ts';
import { familiarName } from '../src/registry/reference.ts';

const D = `sha256:${'a'.repeat(64)}`;

test('a bare name means Docker Hub, library/, and :latest', (t) => {
  t.deepEqual(parseReference('busybox'), { registry: 'registry-1.docker.io', repository: 'library/busybox', tag: 'latest' });
  t.deepEqual(parseReference('docker.io/busybox:1.36'), { registry: 'registry-1.docker.io', repository: 'library/busybox', tag: '1.36' });
  t.deepEqual(parseReference('index.docker.io/user/app'), { registry: 'registry-1.docker.io', repository: 'user/app', tag: 'latest' });
  t.deepEqual(parseReference('user/app:v1'), { registry: 'registry-1.docker.io', repository: 'user/app', tag: 'v1' });
  t.is(familiarName(parseReference('docker.io/library/busybox')), 'busybox');
  t.is(familiarName(parseReference('localhost:5000/a/b')), 'localhost:5000/a/b');
});

test('a first component with a dot, a port, or "localhost" is a registry; a colon after the last slash is a tag', (t) => {
  t.deepEqual(parseReference('localhost:5000/x'), { registry: 'localhost:5000', repository: 'x', tag: 'latest' });
  t.deepEqual(parseReference('localhost/x:1'), { registry: 'localhost', repository: 'x', tag: '1' });
  t.deepEqual(parseReference('ghcr.io/a/b/c:2.0-rc_1'), { registry: 'ghcr.io', repository: 'a/b/c', tag: '2.0-rc_1' });
  t.deepEqual(parseReference('127.0.0.1:5000/nsk/busybox:1'), { registry: '127.0.0.1:5000', repository: 'nsk/busybox', tag: '1' });
  t.deepEqual(parseReference('[::1]:5000/x'), { registry: '[::1]:5000', repository: 'x', tag: 'latest' });
});

test('a digest pins the manifest; with a tag both are kept, and no :latest is implied', (t) => {
  t.deepEqual(parseReference(`quay.io/x@${D}`), { registry: 'quay.io', repository: 'x', digest: D });
  t.deepEqual(parseReference(`x:1@${D}`), { registry: 'registry-1.docker.io', repository: 'library/x', tag: '1', digest: D });
});

test('bad references throw InvalidReferenceError (a ValidationError) saying what is wrong', (t) => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['Busybox', /lowercase/],
    ['a//b', /empty path component/],
    ['a/-b', /bad path component/],
    ['x:tag with space', /bad tag/],
    ['x:.hidden', /bad tag/],
    [`x@sha256:${'a'.repeat(63)}`, /64 lowercase hex/],
    [`x@md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
    ['x@latest', /bad digest/],
    ['localhost:5000/', /no repository/],
    ['bad_host.io:x/y', /bad registry host|bad tag/],
    [`r.io/${'a'.repeat(260)}`, /longer than 255/],
  ];
  for (const [ref, why] of bad) {
    const e = t.throws(() => parseReference(ref), { instanceOf: InvalidReferenceError }, ref);
    t.regex(e!.message, why, ref);
    t.is(e!.code, 'ERR_NSK_INVALID');
    t.is(e!.field, 'ref');
  }
});

test('WWW-Authenticate challenges parse into scheme and parameters, several per header', (t) => {
  t.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
  ]);
  t.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  t.deepEqual(parseChallenges('Basic realm="a, b", Bearer realm="http://t/token",error=insufficient_scope'), [
    { scheme: 'basic', params: { realm: 'a, b' } },
    { scheme: 'bearer', params: { realm: 'http://t/token', error: 'insufficient_scope' } },
  ]);
  t.deepEqual(parseChallenges('Bearer realm="q\\"x"'), [{ scheme: 'bearer', params: { realm: 'q"x' } }]);
  t.deepEqual(parseChallenges(''), []);
});

const desc = (arch: string, variant?: string, os = 'linux'): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${arch.padEnd(64, '0').replace(/[^0-9a-f]/g, 'f')}`, size: 1,
  platform: { os, architecture: arch, ...(variant ? { variant } : {}) },
});

test('the host platform is linux and GOARCH (amd64 for x64, arm64/v8 for arm64)', (t) => {
  const p = hostPlatform();
  t.is(p.os, 'linux');
  t.is(p.architecture, ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? p.architecture);
  if (process.arch === 'arm64') t.is(p.variant, 'v8');
});

test('an index entry is chosen by os, architecture and variant; "arm64" with no variant is v8', (t) => {
  const list = [desc('amd64'), desc('arm', 'v6'), desc('arm', 'v7'), desc('arm64', 'v8'), desc('unknown', undefined, 'unknown')];
  t.is(selectPlatform(list, { os: 'linux', architecture: 'amd64' }, 'x'), list[0]!);
  t.is(selectPlatform(list, { os: 'linux', architecture: 'arm', variant: 'v6' }, 'x'), list[1]!);
  t.is(selectPlatform(list, { os: 'linux', architecture: 'arm' }, 'x'), list[2]!);
  t.is(selectPlatform(list, { os: 'linux', architecture: 'arm64' }, 'x'), list[3]!);
  t.is(selectPlatform([desc('arm64')], { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'x').platform!.architecture, 'arm64');
  const e = t.throws(() => selectPlatform(list, { os: 'linux', architecture: 's390x' }, 'reg/x:1'), { instanceOf: NoMatchingPlatformError });
  t.is(e!.message, 'reg/x:1: no manifest for linux/s390x; the image offers linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8');
  t.deepEqual(e!.offered.map((p) => p.architecture), ['amd64', 'arm', 'arm', 'arm64']);
  t.throws(() => selectPlatform(list, { os: 'linux', architecture: 'arm', variant: 'v5' }, 'x'), { instanceOf: NoMatchingPlatformError });
  t.throws(() => selectPlatform(list, { os: 'windows', architecture: 'amd64' }, 'x'), { instanceOf: NoMatchingPlatformError });
});

test('manifests parse by media type; schema 1, artifacts and malformed ones are refused', (t) => {
  const cfg = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D, size: 2 };
  const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D, size: 3 };
  const j = (o: unknown) => Buffer.from(JSON.stringify(o));
  const m = parseManifest(j({ schemaVersion: 2, config: cfg, layers: [layer] }), 'application/vnd.oci.image.manifest.v1+json', 'r');
  t.like(m, { kind: 'manifest', config: cfg, layers: [layer] });
  const i = parseManifest(j({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: [{ ...cfg, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', platform: { os: 'linux', architecture: 'amd64' } }] }), 'text/plain', 'r');
  t.is(i.kind, 'index');
  const refused: [Buffer, string, RegExp][] = [
    [j({ schemaVersion: 1, name: 'x' }), 'application/vnd.docker.distribution.manifest.v1+prettyjws', /schema 1/],
    [j({ schemaVersion: 2, config: { ...cfg, mediaType: 'application/vnd.cncf.helm.config.v1+json' }, layers: [] }), '', /not a container image/],
    [j({ schemaVersion: 2, config: cfg, layers: [{ ...layer, mediaType: 'application/vnd.example.sbom+json' }] }), '', /not a filesystem layer/],
    [j({ schemaVersion: 2, config: { ...cfg, digest: 'sha256:xyz' }, layers: [] }), '', /not a sha256 or sha512 digest/],
    [j({ schemaVersion: 2, config: { ...cfg, size: -1 }, layers: [] }), '', /bad size/],
    [Buffer.from('{"schemaVersion":'), '', /not JSON/],
  ];
  for (const [bytes, type, why] of refused) {
    t.throws(() => parseManifest(bytes, type, 'r'), { instanceOf: UnsupportedManifestError, message: why });
  }
});
