// What a chapter is: a number, a title in both languages, and a `run` that
// shows the chapter's experiment. The observing logic lives in functions
// the chapter exports, so its test asserts on the very data `run` prints.
import type { Show } from './show.ts';

export interface Chapter {
  /** 1-based position in the book. */
  readonly n: number;
  /** The directory name after the number: `chroot` in `01-chroot`. */
  readonly slug: string;
  readonly title: string;
  readonly titleKo: string;
  run(show: Show): Promise<void>;
}

export function defineChapter(c: Chapter): Chapter {
  if (!Number.isInteger(c.n) || c.n < 1) throw new Error(`chapter number must be a positive integer, got ${c.n}`);
  if (!/^[a-z0-9-]+$/.test(c.slug)) throw new Error(`chapter slug must be kebab-case, got ${JSON.stringify(c.slug)}`);
  return c;
}
