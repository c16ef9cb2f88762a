// nsk pull from a real registry (Debian's docker-registry on 127.0.0.1,
// plain http: --insecure), then a container of what was pulled.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { hostState, leftSince, testRootfs } from '@nsk/testkit';
import { removeLeftovers, nskIn, stateDir } from './helpers.ts';

const scratch = mkdtempSync(join(tmpdir(), 'nsk-cli-pull-'));
process.env.NSK_STORE_DIR = join(scratch, 'store');
// In the machine's namespace: nsk pull reaches the test's registry on its
// loopback; the containers here use --net none (no bridge, no veth).
const nsk = nskIn(stateDir(), { netns: null });
const before = hostState();

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** docker-registry serving from scratch/registry on a port it picks; resolves with "127.0.0.1:PORT". */
async function startRegistry(): Promise<{ host: string; stop(): Promise<void> }> {
  const config = join(scratch, 'registry.yml');
  // YAML is a superset of JSON.
  writeFileSync(config, JSON.stringify({ version: 0.1, log: { level: 'info' }, storage: { filesystem: { rootdirectory: join(scratch, 'registry') } }, http: { addr: '127.0.0.1:0' } }));
  const child = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const host = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      log += String(d);
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(log);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`docker-registry exited:\n${log}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  return { host, stop: async () => { child.kill('SIGTERM'); await exited; } };
}

/** The registry API's monolithic upload (POST, then PUT ?digest=) and a manifest PUT. */
async function push(base: string, repo: string, tag: string, tar: Buffer): Promise<void> {
  const layer = gzipSync(tar);
  const config = Buffer.from(JSON.stringify({
    architecture: process.arch === 'arm64' ? 'arm64' : 'amd64', os: 'linux',
    config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'FROM_IMAGE=yes'], Cmd: ['/bin/sh', '-c', 'echo default command'] },
    rootfs: { type: 'layers', diff_ids: [sha(tar)] },
  }));
  for (const blob of [layer, config]) {
    const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location')!, base);
    location.searchParams.set('digest', sha(blob));
    const put = await fetch(location, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
  });
  const m = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (m.status !== 201) throw new Error(`manifest: ${m.status} ${await m.text()}`);
}

test('pull --insecure from a local registry, then run the image with its Env and Cmd', async (t) => {
  const registry = await startRegistry();
  try {
    const tarball = join(scratch, 'rootfs.tar');
    execFileSync('tar', ['-C', testRootfs(), '-cf', tarball, '.']);
    await push(`http://${registry.host}`, 'nsk/busybox', '1', readFileSync(tarball));
    const ref = `${registry.host}/nsk/busybox:1`;
    const refused = await nsk.async(['pull', ref]);
    t.is(refused.status, 125); // https by default: the test registry speaks http only
    const r = await nsk.async(['pull', '--insecure', ref]);
    t.is(r.stderr, ''); // stderr is not a terminal: no progress bar
    t.is(r.status, 0);
    t.regex(r.stdout, new RegExp(`^[0-9a-f]{12} ${ref.replace(/[.]/g, '\\.')}\\n$`));
    t.regex(nsk('images').stdout, /nsk\/busybox +1 /);
    const run = await nsk.async(['run', '--net', 'none', ref]);
    t.is(run.stdout, 'default command\n');
    const env = await nsk.async(['run', '--net', 'none', ref, '--', 'sh', '-c', 'echo $FROM_IMAGE']);
    t.is(env.stdout, 'yes\n');
    t.is(nsk('rmi', ref).status, 0);
  } finally {
    await registry.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
});

test.after.always('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
  t.deepEqual(removeLeftovers(nsk), []);
});
