// The chapters on disk: workbook/chapters/NN-slug/index.ts.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { Chapter } from './chapter.ts';

export const CHAPTERS_DIR = fileURLToPath(new URL('../chapters/', import.meta.url));

/** Chapter directories, in order. */
export function chapterDirs(): string[] {
  return readdirSync(CHAPTERS_DIR).filter((d) => /^\d\d-[a-z0-9-]+$/.test(d)).sort();
}

export async function loadChapter(dir: string): Promise<Chapter> {
  const mod = (await import(pathToFileURL(join(CHAPTERS_DIR, dir, 'index.ts')).href)) as { default: Chapter };
  return mod.default;
}

export async function loadBook(): Promise<Chapter[]> {
  return Promise.all(chapterDirs().map(loadChapter));
}
