import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CidrMap, cidrContains, formatIp, parseCidr, parseIp } from './cidr.ts';

test('parses and canonicalises addresses and blocks', () => {
  assert.equal(parseCidr('10.0.0.0/8')?.text, '10.0.0.0/8');
  assert.equal(parseCidr('1.2.3.4')?.text, '1.2.3.4/32');
  assert.equal(parseCidr('2001:DB8::/32')?.text, '2001:db8::/32');
  assert.equal(parseCidr('::1')?.text, '::1/128');
  assert.equal(parseCidr('::ffff:10.1.2.3')?.text, '10.1.2.3/32');
  assert.equal(formatIp(parseIp('2001:0:0:1:0:0:0:1')!), '2001:0:0:1::1');
});

test('rejects malformed input', () => {
  for (const bad of ['10.0.0.1/8', '300.1.1.1', '1.2.3.4/33', 'abc', '1.2.3.4/', '::/129', '1.2.3.4/8/1', ''])
    assert.equal(parseCidr(bad), null, bad);
});

test('contains and longest-prefix lookup', () => {
  const m = new CidrMap<string>();
  m.set(parseCidr('10.0.0.0/8')!, 'wide');
  m.set(parseCidr('10.1.2.3')!, 'exact');
  m.set(parseCidr('2001:db8::/32')!, 'v6');
  assert.equal(m.lookup(parseIp('10.1.2.3')!), 'exact');
  assert.equal(m.lookup(parseIp('10.9.9.9')!), 'wide');
  assert.equal(m.lookup(parseIp('::ffff:10.9.9.9')!), 'wide');
  assert.equal(m.lookup(parseIp('11.0.0.1')!), undefined);
  assert.equal(m.lookup(parseIp('2001:db8:1::5')!), 'v6');
  assert.equal(m.lookup(parseIp('2001:db9::5')!), undefined);
  assert.ok(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('8.8.8.8')!));
  assert.equal(m.size, 3);
});

test('IPv4 lookups hold across the sign bit and at /0 and /32', () => {
  // The IPv4 path uses 32-bit number arithmetic: addresses from 128.0.0.0 up
  // are negative as int32, and must still match their unsigned networks.
  assert.equal(parseIp('255.255.255.255')!.value, 0xffffffffn);
  assert.equal(parseIp('0.0.0.0')!.value, 0n);
  assert.equal(parseIp('192.168.1.10')!.value, 0xc0a8010an);
  const m = new CidrMap<string>();
  m.set(parseCidr('192.168.0.0/16')!, 'lan');
  m.set(parseCidr('240.0.0.0/4')!, 'reserved');
  m.set(parseCidr('255.255.255.255')!, 'broadcast');
  assert.equal(m.lookup(parseIp('192.168.200.1')!), 'lan');
  assert.equal(m.lookup(parseIp('192.169.0.1')!), undefined);
  assert.equal(m.lookup(parseIp('255.255.255.255')!), 'broadcast');
  assert.equal(m.lookup(parseIp('255.255.255.254')!), 'reserved');
  assert.equal(m.lookup(parseIp('128.0.0.1')!), undefined);
  m.set(parseCidr('0.0.0.0/0')!, 'any');
  assert.equal(m.lookup(parseIp('128.0.0.1')!), 'any');
  assert.equal(m.lookup(parseIp('192.168.200.1')!), 'lan');
  // An IPv4 entry never answers an IPv6 address, nor the reverse.
  assert.equal(m.lookup(parseIp('2001:db8::1')!), undefined);
});
