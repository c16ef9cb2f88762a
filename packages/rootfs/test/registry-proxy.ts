// A loopback HTTP proxy in front of a registry, for what a registry alone
// cannot show: it records every request (so a test can count blob GETs),
// answers blob GETs with a 307 to a "CDN" path on itself (as Docker Hub and
// S3-backed registries do), and can corrupt a response on purpose.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Proxy {
  host: string;
  url: string;
  /** "GET /v2/x/blobs/sha256:…", in order. */
  requests: string[];
  /** Flip one byte in the body of the responses to requests whose path this returns true for. */
  corrupt: ((path: string) => boolean) | undefined;
  close(): Promise<void>;
}

const CDN = '/_cdn';

export async function startProxy(upstream: string): Promise<Proxy> {
  const up = new URL(upstream);
  const proxy: Proxy = { host: '', url: '', requests: [], corrupt: undefined, close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    proxy.requests.push(`${req.method} ${path}`);
    if (req.method === 'GET' && /^\/v2\/.+\/blobs\/sha256:[0-9a-f]{64}$/.test(path)) {
      res.writeHead(307, { location: `${CDN}${path}` });
      res.end();
      return;
    }
    const target = path.startsWith(CDN) ? path.slice(CDN.length) : path;
    const headers = { ...req.headers, host: up.host };
    const out = request({ host: up.hostname, port: up.port, method: req.method, path: target, headers }, (r) => {
      if (proxy.corrupt?.(path)) {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          const body = Buffer.concat(chunks);
          if (body.length > 1) body[body.length - 2] = body[body.length - 2]! ^ 0x01;
          res.writeHead(r.statusCode ?? 502, r.headers);
          res.end(body);
        });
        return;
      }
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    out.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(out);
  });
  // Node closes idle kept-alive connections after 5 s; a slow test step could then race a reuse.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  proxy.host = `127.0.0.1:${port}`;
  proxy.url = `http://${proxy.host}`;
  proxy.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return proxy;
}

/** The blob GETs a proxy saw (the first, redirected request of each), by digest. */
export function blobGets(p: Proxy): string[] {
  return p.requests.flatMap((r) => {
    const m = /^GET \/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/.exec(r);
    return m ? [m[1]!] : [];
  });
}
