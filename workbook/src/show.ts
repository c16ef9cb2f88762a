// How a chapter prints: prose, numbered steps, and the host's view beside
// the container's, so the difference is what the eye lands on.
export interface Show {
  /** A paragraph of explanation. */
  say(text: string): void;
  /** A heading for the next experiment. */
  step(title: string): void;
  /** Two columns, the host on the left and the container on the right. */
  sideBySide(views: { host: string; container: string }): void;
  /** A command or plan shown verbatim. */
  code(text: string): void;
}

const width = () => Math.max(80, Math.min(process.stdout.columns ?? 100, 160));

function pad(s: string, n: number): string {
  const cut = s.length > n ? `${s.slice(0, n - 1)}…` : s;
  return cut + ' '.repeat(n - cut.length);
}

/** Lays out two texts as columns of equal width. */
export function columns(left: string, right: string, total = width(), titles = ['host', 'container']): string {
  const w = Math.floor((total - 3) / 2);
  const l = left.replace(/\n$/, '').split('\n');
  const r = right.replace(/\n$/, '').split('\n');
  const rows = [`${pad(titles[0]!, w)} │ ${titles[1]}`, `${'─'.repeat(w)}─┼─${'─'.repeat(w)}`];
  for (let i = 0; i < Math.max(l.length, r.length); i++) rows.push(`${pad(l[i] ?? '', w)} │ ${r[i] ?? ''}`.trimEnd());
  return rows.join('\n');
}

/** A Show that writes to a stream (stdout by default). */
export function consoleShow(write: (s: string) => void = (s) => process.stdout.write(s)): Show {
  let steps = 0;
  return {
    say: (text) => write(`${text}\n\n`),
    step: (title) => write(`── ${++steps}. ${title}\n\n`),
    sideBySide: ({ host, container }) => write(`${columns(host, container)}\n\n`),
    code: (text) => write(`${text.replace(/^/gm, '    ')}\n\n`),
  };
}
