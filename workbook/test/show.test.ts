import test from 'ava';
import { columns, consoleShow } from '../src/show.ts';
import { chapterDirs, loadBook } from '../src/book.ts';

test('sideBySide lays the host and the container out in two columns', (t) => {
  const out = columns('a\nbb', 'c', 23);
  t.deepEqual(out.split('\n'), ['host       │ container', '───────────┼───────────', 'a          │ c', 'bb         │']);
});

test('consoleShow numbers the steps', (t) => {
  let s = '';
  const show = consoleShow((x) => { s += x; });
  show.step('one');
  show.step('two');
  t.regex(s, /── 1\. one[\s\S]*── 2\. two/);
});

test('every chapter directory loads, numbers match directory order, both titles present', async (t) => {
  const dirs = chapterDirs();
  const book = await loadBook();
  t.is(book.length, dirs.length);
  book.forEach((c, i) => {
    t.is(c.n, Number(dirs[i]!.slice(0, 2)), dirs[i]);
    t.is(c.slug, dirs[i]!.slice(3));
    t.true(c.title.length > 0 && c.titleKo.length > 0);
  });
});
