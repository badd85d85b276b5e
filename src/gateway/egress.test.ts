import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { test } from 'node:test';
import { createEgressGuard, hostAsIp } from './egress.ts';

test('blocks private, loopback, link-local, CGNAT and metadata; allows public', () => {
  const g = createEgressGuard({ allow: [], ownPort: () => false });
  for (const ip of [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fd00::1',
    'fe80::1',
    '224.0.0.1',
    '::ffff:127.0.0.1',
  ])
    assert.equal(g.allowedText(ip, 80), false, ip);
  for (const ip of ['1.1.1.1', '8.8.8.8', '2606:4700::1111']) assert.equal(g.allowedText(ip, 443), true, ip);
  // Names are resolved first (direct) or remotely (chained): not judged here.
  assert.equal(g.allowedText('example.com', 80), true);
});

test('the allow-list opens ranges but never the platform ports on local addresses', () => {
  const g = createEgressGuard({
    allow: ['127.0.0.0/8', '10.0.0.0/8'],
    ownPort: (p) => p === 8787 || (p >= 4000 && p <= 4999),
  });
  assert.equal(g.allowedText('127.0.0.1', 3000), true);
  assert.equal(g.allowedText('10.9.9.9', 4000), true);
  assert.equal(g.allowedText('127.0.0.1', 8787), false);
  assert.equal(g.allowedText('127.0.0.1', 4500), false);
  assert.equal(g.allowedText('192.168.0.1', 3000), false);
});

test('numeric spellings, a trailing dot and localhost names are judged as the address they mean', () => {
  const g = createEgressGuard({ allow: [], ownPort: () => false });
  // What inet_aton(3), browsers and upstream proxies read as 127.0.0.1 / 169.254.169.254:
  // a chained upstream would connect there without any DNS.
  for (const host of [
    '2130706433',
    '0x7f.1',
    '0X7F.0.0.1',
    '127.1',
    '127.0.1',
    '0177.0.0.1',
    '0x7f000001',
    '127.0.0.1.',
    'localhost',
    'LOCALHOST.',
    'api.localhost',
    '2852039166',
    '0xa9.0xfe.0xa9.0xfe',
    '012.1',
  ])
    assert.equal(g.allowedText(host, 80), false, host);
  assert.deepEqual(hostAsIp('0x7f.1'), { version: 4, value: 0x7f000001n });
  assert.deepEqual(hostAsIp('1.2.3'), { version: 4, value: 0x01020003n });
  // Real names, and numbers no resolver reads as an address, are left to DNS.
  for (const host of ['example.com', 'localhost.example.com', '1.2.3.4.5', '09.1.1.1', '4294967296', '1..2'])
    assert.equal(hostAsIp(host), null, host);
  assert.equal(g.allowedText('8.8.8.8.', 443), true);
  assert.equal(g.allowedText('134744072', 443), true, '8.8.8.8 as a number');
});

test('IPv4-compatible ::a.b.c.d is refused; NAT64 64:ff9b::a.b.c.d is judged by its IPv4 address', () => {
  const g = createEgressGuard({ allow: [], ownPort: () => false });
  assert.equal(g.allowedText('::127.0.0.1', 80), false);
  assert.equal(g.allowedText('::8.8.8.8', 80), false);
  assert.equal(g.allowedText('64:ff9b::7f00:1', 80), false);
  assert.equal(g.allowedText('64:ff9b::10.0.0.1', 80), false);
  assert.equal(g.allowedText('64:ff9b::169.254.169.254', 80), false);
  assert.equal(g.allowedText('64:ff9b::8.8.8.8', 80), true);
});

test("the host's own addresses count as loopback: refused on every port unless allowed", () => {
  const own = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal)
    .map((a) => a!.address);
  const g = createEgressGuard({ allow: [], ownPort: (p) => p === 8787 });
  const opened = createEgressGuard({ allow: own, ownPort: (p) => p === 8787 });
  for (const a of own) {
    assert.equal(g.allowedText(a, 5432), false, a);
    assert.equal(opened.allowedText(a, 5432), true, a);
    assert.equal(opened.allowedText(a, 8787), false, `${a}: the API port stays closed`);
  }
});
