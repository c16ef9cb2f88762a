// Authentication against real registries (Debian's docker-registry,
// distribution v2.8), all three serving one storage directory the test
// pushed to through an open one:
// - token auth: the registry answers 401 `Bearer realm=…,service=…`, a token
//   server (here, node:http signing RS256 JWTs) hands out tokens for
//   `repository:NAME:pull`, anonymously or for basic credentials;
// - htpasswd: the registry answers 401 `Basic realm=…`.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../src/image/index.ts';
import { pull, UnauthorizedError } from '../src/registry/index.ts';
import { hostPlatform } from '../src/registry/platform.ts';
import { buildImage, layerOf, pushImage, type BuiltImage } from './registry-images.ts';
import { startRegistry, type RegistryServer } from './registry-server.ts';
import { ISSUER, SERVICE, startTokenServer, type TokenServer } from './registry-token.ts';

const USER = { username: 'nsk', password: 'pull-secret' };
// bcrypt of USER.password (cost 5), made once with Python's crypt.crypt(…,
// crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32)); the registry's htpasswd
// only takes bcrypt, and neither Node nor openssl can make one.
const HTPASSWD = 'nsk:$2b$05$QCO44O1T5rg8grNfdo/Q8.XMEA1SeBQTirrqnxKTHkLMcpiwsekJy\n';

const base = mkdtempSync(join(tmpdir(), 'nsk-registry-auth-'));
const childrenBefore = children();
let open: RegistryServer;
let bearer: RegistryServer;
let basic: RegistryServer;
let tokens: TokenServer;
let store: ImageStore;
const img: Record<string, BuiltImage> = {};

function children(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}

test.before(async () => {
  const storage = join(base, 'data');
  tokens = await startTokenServer({ public: ['nsk/public'], user: USER });
  writeFileSync(join(base, 'token-cert.pem'), tokens.certificate);
  writeFileSync(join(base, 'htpasswd'), HTPASSWD);
  [open, bearer, basic] = await Promise.all([
    startRegistry({ storage, dir: join(base, 'open') }),
    startRegistry({ storage, dir: join(base, 'bearer'), auth: { token: { realm: tokens.realm, service: SERVICE, issuer: ISSUER, rootcertbundle: join(base, 'token-cert.pem') } } }),
    startRegistry({ storage, dir: join(base, 'basic'), auth: { htpasswd: { realm: 'nsk-test', path: join(base, 'htpasswd') } } }),
  ]);
  store = new ImageStore({ root: join(base, 'store') });
  const arch = hostPlatform().architecture;
  for (const name of ['public', 'private', 'basic']) {
    img[name] = buildImage({ layers: [await layerOf([{ name: 'etc/', type: 'directory' }, { name: 'etc/which', content: `${name}\n` }])], architecture: arch, cmd: [`/bin/${name}`] });
    await pushImage(open.url, `nsk/${name}`, '1', img[name]);
  }
});

test.after.always(async () => {
  await Promise.all([open?.stop(), bearer?.stop(), basic?.stop(), tokens?.close()]);
  rmSync(base, { recursive: true, force: true });
});

test.serial('token auth, anonymous: the registry demands a Bearer token, the token server grants pull on a public repository', async (t) => {
  // Without a token the registry refuses, and says where to get one.
  const bare = await fetch(`${bearer.url}/v2/nsk/public/manifests/1`);
  await bare.body?.cancel();
  t.is(bare.status, 401);
  t.regex(bare.headers.get('www-authenticate')!, new RegExp(`^Bearer realm="${tokens.realm}",service="${SERVICE}",scope="repository:nsk/public:pull"`));
  const image = await pull(`${bearer.host}/nsk/public:1`, { store, insecure: true });
  t.is(image.id, img.public!.config.digest);
  t.deepEqual(image.config.cmd, ['/bin/public']);
  t.deepEqual(tokens.requests, [{ service: SERVICE, scope: 'repository:nsk/public:pull', user: null }]);
});

test.serial('token auth, private repository: refused anonymously, pulled with credentials, refused with a wrong password', async (t) => {
  tokens.requests.length = 0;
  const e = await t.throwsAsync(pull(`${bearer.host}/nsk/private:1`, { store, insecure: true }), { instanceOf: UnauthorizedError });
  t.is(e!.code, 'ERR_NSK_UNAUTHORIZED');
  t.is(e!.status, 401);
  t.regex(e!.message, /does not grant repository:nsk\/private:pull/);
  t.true(tokens.requests.every((r) => r.user === null));

  tokens.requests.length = 0;
  const image = await pull(`${bearer.host}/nsk/private:1`, { store, insecure: true, auth: USER });
  t.is(image.id, img.private!.config.digest);
  t.true(tokens.requests.length > 0);
  t.true(tokens.requests.every((r) => r.user === USER.username && r.scope === 'repository:nsk/private:pull' && r.service === SERVICE));

  const bad = await t.throwsAsync(pull(`${bearer.host}/nsk/private:1`, { store, insecure: true, auth: { username: 'nsk', password: 'wrong' } }), { instanceOf: UnauthorizedError });
  t.regex(bad!.message, /the token server refused the credentials of nsk/);
  t.deepEqual(bad!.codes, ['UNAUTHORIZED']);
});

test.serial('basic auth (htpasswd): refused without or with wrong credentials, pulled with the right ones', async (t) => {
  const bare = await fetch(`${basic.url}/v2/`);
  await bare.body?.cancel();
  t.is(bare.status, 401);
  t.is(bare.headers.get('www-authenticate'), 'Basic realm="nsk-test"');
  const none = await t.throwsAsync(pull(`${basic.host}/nsk/basic:1`, { store, insecure: true }), { instanceOf: UnauthorizedError });
  t.regex(none!.message, /asks for a username and password/);
  const wrong = await t.throwsAsync(pull(`${basic.host}/nsk/basic:1`, { store, insecure: true, auth: { username: 'nsk', password: 'wrong' } }), { instanceOf: UnauthorizedError });
  t.regex(wrong!.message, /rejected the username and password/);
  const image = await pull(`${basic.host}/nsk/basic:1`, { store, insecure: true, auth: USER });
  t.is(image.id, img.basic!.config.digest);
  t.deepEqual(image.names, [`${basic.host}/nsk/basic:1`]);
});

test.serial('nothing is left behind: no registry or token server, no files', async (t) => {
  const pids = [open.pid, bearer.pid, basic.pid];
  await Promise.all([open.stop(), bearer.stop(), basic.stop(), tokens.close()]);
  rmSync(base, { recursive: true, force: true });
  for (const pid of pids) t.false(existsSync(`/proc/${pid}`));
  t.deepEqual(children(), childrenBefore);
  t.false(existsSync(base));
});
