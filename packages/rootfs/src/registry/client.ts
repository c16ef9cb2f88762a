// The HTTP side of a pull: distribution-spec v1.1 ("OCI Distribution
// Specification"), which is Docker's Registry HTTP API V2. One client talks
// to one repository and keeps the credentials the registry asked for.
import { parseChallenges, type Challenge } from './challenge.ts';
import { ManifestUnknownError, RegistryError, UnauthorizedError, type RegistryErrorBody } from './errors.ts';
import { MANIFEST_ACCEPT } from './media-types.ts';

export interface Credentials { username: string; password: string }

export interface ClientOptions {
  /** "host[:port]". */
  registry: string;
  repository: string;
  /** Plain http:// instead of https:// (a registry on loopback). */
  insecure?: boolean;
  auth?: Credentials;
}

/** distribution-spec, "Pulling manifests": registries must accept manifests of at least 4 MiB; we refuse bigger ones. */
export const MANIFEST_MAX = 4 << 20;

/** Connection errors after which a GET is sent once more on a fresh connection. */
const RETRYABLE = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

export interface FetchedManifest {
  bytes: Buffer;
  /** Content-Type without parameters. */
  contentType: string;
  /** Docker-Content-Digest, when the registry sent it. */
  headerDigest?: string;
  url: string;
}

export class RegistryClient {
  readonly base: string;
  readonly repository: string;
  /** "registry/repository", for messages. */
  readonly name: string;
  readonly #auth: Credentials | undefined;
  /** The Authorization header value we currently send, once a challenge asked for one. */
  #authorization: string | undefined;

  constructor(opts: ClientOptions) {
    this.base = `${opts.insecure ? 'http' : 'https'}://${opts.registry}`;
    this.repository = opts.repository;
    this.name = `${opts.registry}/${opts.repository}`;
    this.#auth = opts.auth;
  }

  /**
   * distribution-spec, "Determining support": GET /v2/ answers 200, or 401
   * with the challenge that says how to authenticate. We meet the challenge
   * here, once, so the requests that follow carry credentials from the start.
   */
  async ping(): Promise<void> {
    const url = `${this.base}/v2/`;
    const res = await this.request(url, {}, this.name);
    if (res.ok) return discard(res);
    if (res.status === 404) {
      await discard(res);
      throw new RegistryError(`${this.base} does not serve the registry API v2`, { url, status: res.status });
    }
    throw await failure(res, this.name, url);
  }

  /** GET /v2/NAME/manifests/REFERENCE with every manifest type we can read in Accept. */
  async manifest(reference: string): Promise<FetchedManifest> {
    const url = `${this.base}/v2/${this.repository}/manifests/${reference}`;
    const what = `${this.name}${reference.includes(':') ? '@' : ':'}${reference}`;
    const res = await this.request(url, { headers: { accept: MANIFEST_ACCEPT.join(', ') } }, what);
    if (!res.ok) throw await failure(res, what, url, reference);
    const bytes = await readLimited(res, MANIFEST_MAX, `manifest ${what}`, url);
    const header = res.headers.get('docker-content-digest');
    const out: FetchedManifest = { bytes, contentType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim(), url };
    if (header) out.headerDigest = header.trim();
    return out;
  }

  /**
   * GET /v2/NAME/blobs/DIGEST. distribution-spec, "Pulling blobs": the
   * registry may answer 307 with the blob somewhere else (a CDN, S3); fetch
   * follows it, and drops our Authorization header when it leaves the origin.
   */
  async blob(digest: string): Promise<Response> {
    const url = `${this.base}/v2/${this.repository}/blobs/${digest}`;
    const what = `blob ${digest}`;
    const res = await this.request(url, { redirect: 'follow' }, what);
    if (!res.ok) throw await failure(res, `${this.name}: ${what}`, url);
    return res;
  }

  /** A blob read whole, refused if it is longer than `max` bytes. */
  async blobBytes(digest: string, max: number): Promise<Buffer> {
    const res = await this.blob(digest);
    return readLimited(res, max, `blob ${digest}`, res.url || `${this.base}/v2/${this.repository}/blobs/${digest}`);
  }

  /** One request with our credentials; a 401 is answered once by meeting its challenge and trying again. */
  async request(url: string, init: RequestInit, what: string): Promise<Response> {
    let res = await this.#send(url, init);
    if (res.status !== 401) return res;
    const challenges = parseChallenges(res.headers.get('www-authenticate') ?? '');
    if (challenges.length === 0) return res;
    await discard(res);
    await this.#authenticate(challenges, url, what);
    res = await this.#send(url, init);
    return res;
  }

  async #send(url: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#authorization) headers.set('authorization', this.#authorization);
    for (let attempt = 0; ; attempt++) {
      try {
        return await fetch(url, { ...init, headers });
      } catch (cause) {
        const why = (cause as { cause?: { code?: string; message?: string } }).cause;
        // A kept-alive connection the server closed just as we reused it
        // fails with a reset before any answer; a GET is safe to send again
        // once (RFC 9110 section 9.2.2, idempotent methods), as Go's net/http does.
        if (attempt === 0 && (init.method ?? 'GET') === 'GET' && RETRYABLE.has(why?.code ?? '')) continue;
        throw new RegistryError(`cannot reach the registry${why?.code ? `: ${why.code}` : why?.message ? `: ${why.message}` : ''}`, { url, status: 0, code: 'ERR_NSK_REGISTRY_UNREACHABLE', cause });
      }
    }
  }

  /**
   * Token auth (distribution "Token Authentication Specification"): GET the
   * challenge's realm with service= and scope=repository:NAME:pull, with our
   * credentials as Basic auth if we have any (anonymous otherwise), and send
   * the token back as `Authorization: Bearer`. Basic auth: send the
   * credentials themselves (RFC 7617).
   */
  async #authenticate(challenges: Challenge[], url: string, what: string): Promise<void> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      this.#authorization = `Bearer ${await this.#token(bearer, what)}`;
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!this.#auth) throw new UnauthorizedError(what, { url, status: 401 }, 'the registry asks for a username and password (Basic auth) and none were given');
      this.#authorization = basic(this.#auth);
      return;
    }
    throw new UnauthorizedError(what, { url, status: 401 }, `unsupported authentication scheme ${challenges.map((c) => c.scheme).join(', ')}`);
  }

  async #token(challenge: Challenge, what: string): Promise<string> {
    const realm = challenge.params.realm;
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(realm ?? '');
    } catch {
      throw new RegistryError(`${what}: the registry's Bearer challenge has no usable realm (${JSON.stringify(realm)})`, { url: this.base, status: 401 });
    }
    if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
    // The challenge names the scope it wants when it answers a repository request; the /v2/ probe names none.
    tokenUrl.searchParams.set('scope', challenge.params.scope ?? `repository:${this.repository}:pull`);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#auth) headers.authorization = basic(this.#auth);
    let res: Response;
    try {
      res = await fetch(tokenUrl, { headers });
    } catch (cause) {
      throw new RegistryError(`${what}: cannot reach the token server`, { url: tokenUrl.href, status: 0, code: 'ERR_NSK_REGISTRY_UNREACHABLE', cause });
    }
    if (res.status === 401 || res.status === 403) {
      const body = await errorBody(res);
      throw new UnauthorizedError(what, { url: tokenUrl.href, status: res.status, errors: body }, `the token server refused ${this.#auth ? `the credentials of ${this.#auth.username}` : 'an anonymous token'}`);
    }
    if (!res.ok) throw await failure(res, `${what}: token request`, tokenUrl.href);
    const json = JSON.parse((await readLimited(res, 1 << 20, 'token', tokenUrl.href)).toString('utf8')) as { token?: unknown; access_token?: unknown };
    // "token" is the spec's field; "access_token" is its OAuth 2 alias; either may be set.
    const token = typeof json.token === 'string' && json.token ? json.token : json.access_token;
    if (typeof token !== 'string' || !token) throw new RegistryError(`${what}: the token server's answer has no token`, { url: tokenUrl.href, status: res.status });
    return token;
  }
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/** The typed error for a failed response: 401/403 UnauthorizedError, manifest 404 ManifestUnknownError, else RegistryError. */
export async function failure(res: Response, what: string, url: string, manifestReference?: string): Promise<RegistryError> {
  const errors = await errorBody(res);
  const init = { url, status: res.status, errors };
  if (res.status === 401 || res.status === 403) return new UnauthorizedError(what, init, unauthorizedWhy(res));
  const codes = errors.map((e) => e.code);
  if (manifestReference !== undefined && (res.status === 404 || codes.includes('MANIFEST_UNKNOWN') || codes.includes('NAME_UNKNOWN'))) {
    return new ManifestUnknownError(what, init);
  }
  return new RegistryError(`${what}: request failed`, init);
}

/** What a final 401 means, from the Bearer challenge's `error` (RFC 6750 section 3.1). */
function unauthorizedWhy(res: Response): string | undefined {
  const challenges = parseChallenges(res.headers.get('www-authenticate') ?? '');
  const bearer = challenges.find((c) => c.scheme === 'bearer');
  if (bearer?.params.error === 'insufficient_scope') {
    return `the token does not grant ${bearer.params.scope ?? 'the access needed'} (no such repository, or these credentials may not pull it)`;
  }
  if (bearer?.params.error === 'invalid_token') return 'the registry rejected the token its token server issued';
  if (challenges.some((c) => c.scheme === 'basic')) return 'the registry rejected the username and password';
  if (res.status === 403) return 'access denied';
  return undefined;
}

/** distribution-spec, "Error Codes": `{"errors":[{"code","message","detail"}]}`; [] when the body is something else. */
async function errorBody(res: Response): Promise<RegistryErrorBody[]> {
  let text: string;
  try {
    text = (await readLimited(res, 64 << 10, 'error body', res.url)).toString('utf8');
  } catch {
    return [];
  }
  try {
    const json = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(json.errors)) return [];
    return json.errors.filter((e): e is RegistryErrorBody => typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string')
      .map((e) => ({ code: e.code, ...(typeof e.message === 'string' ? { message: e.message } : {}), ...(e.detail !== undefined ? { detail: e.detail } : {}) }));
  } catch {
    return [];
  }
}

/** The whole body, failing once it passes `max` bytes (a registry cannot make us buffer without bound). */
export async function readLimited(res: Response, max: number, what: string, url: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await discard(res);
    throw new RegistryError(`${what} is ${declared} bytes, more than the ${max} allowed`, { url, status: res.status });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      total += chunk.byteLength;
      // Leaving the loop by throwing cancels the body stream (and frees the connection).
      if (total > max) throw new RegistryError(`${what} is more than the ${max} bytes allowed`, { url, status: res.status });
      chunks.push(Buffer.from(chunk));
    }
  }
  return Buffer.concat(chunks);
}

/** Frees the connection of a response whose body we do not want. */
export async function discard(res: Response): Promise<void> {
  if (res.body && !res.bodyUsed) await res.body.cancel().catch(() => {});
}
