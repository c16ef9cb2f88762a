// A progress display for pulls and imports: one line per (phase, item),
// redrawn in place with ANSI escapes (ECMA-48: CSI n A cursor up, CSI 2 K
// erase line). Nothing at all is written when the stream is not a terminal
// (a log file, a pipe, CI).
import type { Progress } from '../image/index.ts';

/** Phases whose counts are bytes; the others count things (layers, entries). */
const BYTE_PHASES = new Set(['layer', 'exists', 'download', 'unpack', 'extract']);
/** Redraw at most this often for mere byte counts; new lines and finished ones draw at once. */
const REDRAW_MS = 100;
const BAR_MAX = 30;

/** A terminal progress bar; a no-op writer when `stream` is not a TTY. */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): (p: Progress) => void {
  if (!stream.isTTY) return () => {};
  const lines = new Map<string, Progress>();
  let drawn = 0;
  let last = 0;
  return (p: Progress) => {
    const key = `${p.phase}\0${p.item ?? ''}`;
    const isNew = !lines.has(key);
    lines.set(key, { ...p });
    const finished = p.total !== undefined && p.done >= p.total;
    const now = Date.now();
    if (!isNew && !finished && now - last < REDRAW_MS) return;
    last = now;
    const width = Math.max(40, (stream.columns || 80) - 1);
    // Back to the first line we drew, then rewrite every line.
    let out = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const q of lines.values()) out += `\r\x1b[2K${formatLine(q, width)}\n`;
    drawn = lines.size;
    stream.write(out);
  };
}

/** One line: "layer sha256:0123456789ab [=========>         ]  1.2 MiB / 2.5 MiB  48%". */
export function formatLine(p: Progress, width = 80): string {
  const bytes = BYTE_PHASES.has(p.phase);
  const amount = (n: number) => bytes ? formatBytes(n) : String(n);
  const label = `${p.phase}${p.item ? ` ${shortItem(p.item)}` : ''}`;
  if (p.total === undefined) return fit(`${label}  ${amount(p.done)}`, width);
  const fraction = p.total > 0 ? Math.min(1, Math.max(0, p.done / p.total)) : 1;
  const numbers = `${amount(p.done)} / ${amount(p.total)} ${String(Math.floor(fraction * 100)).padStart(3)}%`;
  const room = width - label.length - numbers.length - 6;
  const size = Math.min(BAR_MAX, room);
  if (size < 5) return fit(`${label}  ${numbers}`, width);
  const full = Math.round(fraction * size);
  const bar = full >= size ? '='.repeat(size) : `${'='.repeat(Math.max(0, full - 1))}${full > 0 ? '>' : ''}${' '.repeat(size - Math.max(full, 0))}`;
  return fit(`${label}  [${bar}]  ${numbers}`, width);
}

/** "sha256:<64 hex>" → "sha256:<12 hex>", as `docker pull` shows layers. */
function shortItem(item: string): string {
  const m = /^(sha256|sha512):([0-9a-f]{12})[0-9a-f]+$/.exec(item);
  return m ? `${m[1]}:${m[2]}` : item;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

function fit(s: string, width: number): string {
  return s.length <= width ? s : `${s.slice(0, width - 1)}…`;
}
