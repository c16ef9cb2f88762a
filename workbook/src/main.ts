// pnpm workbook list | pnpm workbook run N [--ko]
import { chapterDirs, loadBook, loadChapter } from './book.ts';
import { consoleShow } from './show.ts';

async function main(args: string[]): Promise<number> {
  const [cmd, arg] = args;
  if (cmd === 'list' || cmd === undefined) {
    for (const c of await loadBook()) console.log(`${String(c.n).padStart(2)}  ${c.title} · ${c.titleKo}`);
    return 0;
  }
  if (cmd === 'run' && arg !== undefined) {
    const dir = chapterDirs().find((d) => Number(d.slice(0, 2)) === Number(arg) || d.slice(3) === arg);
    if (!dir) {
      console.error(`workbook: no chapter ${JSON.stringify(arg)} (pnpm workbook list shows them)`);
      return 2;
    }
    const chapter = await loadChapter(dir);
    if (process.getuid?.() !== 0) console.error('workbook: the chapters make namespaces and mounts; run them as root (the vagrant lab is root).');
    console.log(`# ${chapter.n}. ${chapter.title} · ${chapter.titleKo}\n`);
    await chapter.run(consoleShow());
    return 0;
  }
  console.error('usage: pnpm workbook list | pnpm workbook run N');
  return 2;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
