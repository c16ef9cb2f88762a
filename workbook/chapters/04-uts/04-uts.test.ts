import test from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { observe } from './index.ts';

const before = hostState();

test.serial('a hostname set inside leaves the host’s unchanged', async (t) => {
  const o = await observe('chapter-4-test', 'chapter4.test');
  t.is(o.container.hostname, 'chapter-4-test');
  t.is(o.container.domainname, 'chapter4.test');
  t.is(o.host.after, o.host.before);
  t.not(o.host.before, 'chapter-4-test');
  t.not(o.host.domain, 'chapter4.test');
  t.not(o.container.ns, o.host.ns);
});

test.serial('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before).children, []);
});
