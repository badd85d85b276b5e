import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEgressGuard } from './egress.ts';

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
