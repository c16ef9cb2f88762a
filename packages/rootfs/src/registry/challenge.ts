// WWW-Authenticate challenges (RFC 7235 section 4.1): `Bearer realm="…",
// service="…",scope="…"` from a registry using token auth (distribution
// docs, "Token Authentication Specification"), `Basic realm="…"` from one
// using htpasswd. One header may carry several challenges.

export interface Challenge {
  /** Lowercased: 'bearer', 'basic'. */
  scheme: string;
  /** Parameter names lowercased: realm, service, scope, error. */
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header value into its challenges, in order. */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skip = (chars: string) => { while (i < n && chars.includes(header[i]!)) i++; };
  const token = () => { const m = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(header.slice(i)); if (!m) return ''; i += m[0].length; return m[0]; };
  let current: Challenge | undefined;
  while (i < n) {
    skip(' \t,');
    if (i >= n) break;
    const start = i;
    const word = token();
    if (!word) { i++; continue; }
    skip(' \t');
    if (header[i] === '=' && current) {
      i++;
      skip(' \t');
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        value = token();
      }
      current.params[word.toLowerCase()] = value;
    } else {
      // token68 (`Basic dXNlcg==`) is not used in challenges we handle; a new scheme starts.
      if (header[i] === '=' && !current) { i = start + word.length + 1; continue; }
      current = { scheme: word.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}
