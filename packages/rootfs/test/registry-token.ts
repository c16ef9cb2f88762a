// A token server for distribution's token auth ("Token Authentication
// Specification"; registry/auth/token in distribution v2.8): a JWT signed
// RS256 with a key whose certificate is in the registry's rootcertbundle.
// The header's `kid` is the key's libtrust fingerprint, which the registry
// looks up among the bundle's keys. The certificate is self-signed and
// built here (DER by hand), so the tests need no openssl.
import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const SERVICE = 'nsk-test-registry';
export const ISSUER = 'nsk-test-issuer';

// ---- DER (X.690) just enough for one certificate ----
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...parts: Buffer[]) => { const body = Buffer.concat(parts); return Buffer.concat([Buffer.from([tag]), len(body.length), body]); };
const seq = (...p: Buffer[]) => tlv(0x30, ...p);
const set = (...p: Buffer[]) => tlv(0x31, ...p);
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [a * 40 + b];
  for (const n of rest) {
    const groups: number[] = [];
    let v = n;
    do { groups.unshift(v & 0x7f); v = Math.floor(v / 128); } while (v > 0);
    out.push(...groups.map((g, i) => i < groups.length - 1 ? g | 0x80 : g));
  }
  return tlv(0x06, Buffer.from(out));
}
const utc = (d: Date) => tlv(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
const SHA256_RSA = seq(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));

/** A self-signed X.509 v1 certificate for `key`, PEM. */
function selfSigned(privateKey: KeyObject, spki: Buffer, cn: string): string {
  const name = seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn)))));
  const now = Date.now();
  const tbs = seq(tlv(0x02, Buffer.from([0x01])), SHA256_RSA, name, seq(utc(new Date(now - 3600_000)), utc(new Date(now + 86400_000))), name, spki);
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, SHA256_RSA, tlv(0x03, Buffer.from([0]), signature));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** libtrust's key id: base32 of the first 240 bits of sha256(DER SubjectPublicKeyInfo), in 12 groups of 4. */
function libtrustKeyId(spki: Buffer): string {
  const hash = createHash('sha256').update(spki).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of hash) bits += byte.toString(2).padStart(8, '0');
  let s = '';
  for (let i = 0; i < bits.length; i += 5) s += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return s.match(/.{4}/g)!.join(':');
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export interface TokenRequest { service: string | null; scope: string | null; user: string | null }

export interface TokenServer {
  /** The realm to configure the registry with. */
  realm: string;
  /** PEM of the signing certificate: the registry's rootcertbundle. */
  certificate: string;
  requests: TokenRequest[];
  close(): Promise<void>;
}

export interface TokenPolicy {
  /** Repositories anyone may pull without credentials. */
  public: string[];
  /** The one user whose basic credentials are accepted; they may pull every repository. */
  user: { username: string; password: string };
}

/**
 * GET /token?service=&scope=repository:NAME:pull. Wrong credentials get 401.
 * No credentials get a token too, but one granting only the public
 * repositories (as Docker Hub does), so the registry refuses the rest.
 */
export async function startTokenServer(policy: TokenPolicy): Promise<TokenServer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const certificate = selfSigned(createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })), spki, 'nsk test token issuer');
  const kid = libtrustKeyId(spki);
  const requests: TokenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    let user: string | null = null;
    if (auth?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (u !== policy.user.username || p.join(':') !== policy.user.password) {
        requests.push({ service: url.searchParams.get('service'), scope: url.searchParams.get('scope'), user: `${u} (refused)` });
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad username or password' }] }));
        return;
      }
      user = u!;
    }
    const scope = url.searchParams.get('scope');
    requests.push({ service: url.searchParams.get('service'), scope, user });
    const access = (scope ?? '').split(' ').flatMap((s) => {
      const m = /^repository:([^:]+):(.+)$/.exec(s);
      if (!m) return [];
      const allowed = user !== null || policy.public.includes(m[1]!);
      return allowed ? [{ type: 'repository', name: m[1]!, actions: m[2]!.split(',').filter((a) => a === 'pull') }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid }));
    const claims = b64url(JSON.stringify({
      iss: ISSUER, sub: user ?? '', aud: url.searchParams.get('service') ?? '', exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access,
    }));
    const token = `${header}.${claims}.${b64url(sign('sha256', Buffer.from(`${header}.${claims}`), privateKey))}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    // Old clients read "token", OAuth-minded ones "access_token"; registries' token servers send both.
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`, certificate, requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
