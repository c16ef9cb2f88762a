// Published ports: the userland proxy, TCP and UDP.
import test from 'ava';
import { createServer, type AddressInfo } from 'node:net';
import { createSocket } from 'node:dgram';
import { hostState, leftSince } from '@nsk/testkit';
import { PortProxy, parsePublish, probePort, connectFrom, ownNetnsFd, inNetns } from '../src/index.ts';
import { boundSocket } from '../src/inet-socket.ts';
import { scratchNetns, httpGet } from './helpers.ts';

ownNetnsFd();
const before = hostState();

test('publish specs parse as docker writes them', (t) => {
  t.deepEqual(parsePublish('8080:80'), { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
  t.deepEqual(parsePublish('127.0.0.1:5353:53/udp'), { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' });
  t.deepEqual(parsePublish('[::1]:8443:443'), { hostIp: '::1', hostPort: 8443, containerPort: 443, protocol: 'tcp' });
  for (const bad of ['80', '70000:80', '8080:0', 'a:b', '8080:80/sctp', '1.2.3:80:80']) t.throws(() => parsePublish(bad), { code: 'ERR_NSK_INVALID' }, bad);
});

test('a TCP proxy on loopback forwards to a server and lets the port go when closed', async (t) => {
  const server = createServer((c) => c.resume().end('pong\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target = (server.address() as AddressInfo).port;
  const proxy = await PortProxy.start(parsePublish(`127.0.0.1:0:${target}`), '127.0.0.1');
  t.true(proxy.hostPort > 0);
  const got = await new Promise<string>((resolve, reject) => {
    const s = connectFrom(null, '127.0.0.1', proxy.hostPort);
    let d = '';
    s.on('data', (c: Buffer) => { d += c; }).on('end', () => resolve(d)).on('error', reject);
  });
  t.is(got, 'pong\n');
  t.throws(() => probePort({ hostIp: '127.0.0.1', hostPort: proxy.hostPort, containerPort: 1, protocol: 'tcp' }, null), { code: 'ERR_NSK_INVALID', message: /already in use/ });
  await proxy.close();
  t.notThrows(() => probePort({ hostIp: '127.0.0.1', hostPort: proxy.hostPort, containerPort: 1, protocol: 'tcp' }, null));
  await new Promise((resolve) => server.close(resolve));
});

test('a UDP proxy in another namespace relays a datagram and its reply', async (t) => {
  const { ns, done } = scratchNetns();
  const echo = createSocket('udp4');
  try {
    echo.on('message', (m, r) => echo.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
    await new Promise<void>((resolve) => echo.bind({ fd: inNetns(ns.fd, () => boundSocket('udp', '127.0.0.1', 0)) }, resolve));
    const echoPort = echo.address().port;
    const proxy = await PortProxy.start(parsePublish(`127.0.0.1:0:${echoPort}/udp`), '127.0.0.1', ns.fd);
    const client = createSocket('udp4');
    await new Promise<void>((resolve) => client.bind({ fd: inNetns(ns.fd, () => boundSocket('udp', '127.0.0.1', 0)) }, resolve));
    const reply = new Promise<string>((resolve) => client.once('message', (m) => resolve(String(m))));
    client.send('hi', proxy.hostPort, '127.0.0.1');
    t.is(await reply, 'echo:hi');
    await new Promise<void>((resolve) => client.close(resolve));
    await proxy.close();
  } finally {
    await new Promise<void>((resolve) => echo.close(resolve));
    done();
  }
});

test('a TCP proxy listening in another namespace is unreachable from this one', async (t) => {
  const { ns, done } = scratchNetns();
  // resume(): a socket whose data nobody reads never sees its 'end'.
  const server = createServer((c) => c.resume().end('inside\n'));
  try {
    await new Promise<void>((resolve) => server.listen({ fd: inNetns(ns.fd, () => boundSocket('tcp', '127.0.0.1', 0)) }, resolve));
    const port = (server.address() as AddressInfo).port;
    const proxy = await PortProxy.start(parsePublish(`127.0.0.1:0:${port}`), '127.0.0.1', ns.fd);
    t.regex(await httpGet(ns, '127.0.0.1', proxy.hostPort), /inside/);
    await t.throwsAsync(httpGet(null, '127.0.0.1', proxy.hostPort), { code: 'ECONNREFUSED' });
    await proxy.close();
  } finally {
    await new Promise((resolve) => server.close(resolve));
    done();
  }
});

test.after.always('nothing is left behind', (t) => {
  t.deepEqual(leftSince(before), { mounts: [], children: [], fds: [] });
});
