// Chapter 9's claims, on the same data the chapter prints.
import test from 'ava';
import { hostState, leftSince } from '@nsk/testkit';
import { ownNetnsFd } from '@nsk/net';
import { bridgeAndPort, emptyNamespace, ipIn, vethPair } from './index.ts';

ownNetnsFd(); // @nsk/net keeps this one fd open for the process's life
const before = hostState();
// Links on the real host this chapter could have made (others' tests may add their own meanwhile).
const ourKind = (): string[] => ipIn(null, '-o', 'link').split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter((n) => /^(v?nsk|veth)/.test(n)).sort();
const hostLinksBefore = ourKind();

test('a new network namespace has only lo, and it is down — our dump and `ip -json` agree', (t) => {
  const r = emptyNamespace();
  t.deepEqual(r.links, [{ name: 'lo', up: false, kind: null, addresses: [] }]);
  t.deepEqual(r.ipJson.map((l) => [l.ifname, l.operstate, l.flags.includes('UP')]), [['lo', 'DOWN', false]]);
  t.true(r.hostLinkCount >= 1);
});

test('a veth pair joins two namespaces: each sees one end, and a ping crosses', (t) => {
  const r = vethPair();
  t.deepEqual(r.left.map((l) => l.name), ['lo', 'veth0']);
  t.deepEqual(r.right.map((l) => l.name), ['lo', 'veth1']);
  t.true(r.left.find((l) => l.name === 'veth0')!.addresses.includes('10.200.0.1/24'));
  t.true(r.right.find((l) => l.name === 'veth1')!.addresses.includes('10.200.0.2/24'));
  t.regex(r.ping, /1 packets received/);
});

test('two containers on a bridge ping each other; the host gets HTTP 200 through a published port; nothing stays', async (t) => {
  const r = await bridgeAndPort();
  t.regex(r.hostWhileRunning, /^nsk0\s+UP|^nsk0\s+UNKNOWN/m);
  t.is(r.clientStatus, 0, r.clientOut);
  t.regex(r.clientOut, /2 packets transmitted, 2 packets received/);
  t.not(r.client.address, r.web.address);
  t.regex(r.client.address, /^10\.88\./);
  t.regex(r.http, /^HTTP\/1\.[01] 200 OK/);
  t.regex(r.http, /hello from a container/);
  t.is(r.web.hostPort, 8080);
  t.deepEqual(r.after, { hostLinks: ['lo'], leases: 0, portAnswers: false });
});

test.after.always('nothing is left behind on the real host', (t) => {
  t.deepEqual(ourKind(), hostLinksBefore);
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});
