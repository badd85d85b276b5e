import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

test('defaults match CONTRACT.md', () => {
  const c = loadConfig({});
  assert.equal(c.api.port, 8787);
  assert.equal(c.api.host, '0.0.0.0');
  assert.deepEqual(c.gateway.ports, { from: 4000, to: 4999 });
  assert.deepEqual(c.gateway.egressAllow, []);
  assert.equal(c.api.rateLimitPerMin, 300);
  assert.deepEqual(c.roles, ['gateway', 'api', 'jobs']);
  assert.ok(c.dataDir.endsWith('/data'));
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.gateway));
});

test('credential lock-out: 10 distinct failures in 10 minutes lock for 15 minutes; 0 disables', () => {
  assert.deepEqual(loadConfig({}).authLockout, { limit: 10, windowSec: 600, lockoutSec: 900 });
  assert.deepEqual(
    loadConfig({
      PORTCULLIS_AUTH_FAIL_LIMIT: '0',
      PORTCULLIS_AUTH_FAIL_WINDOW: '30s',
      PORTCULLIS_AUTH_LOCKOUT: '1h',
    }).authLockout,
    { limit: 0, windowSec: 30, lockoutSec: 3600 },
  );
});

test('gateway threads: 1 by default, a number up to 64 or auto (one per core)', () => {
  assert.equal(loadConfig({}).gateway.threads, 1);
  assert.equal(loadConfig({ PORTCULLIS_GATEWAY_THREADS: '3' }).gateway.threads, 3);
  assert.equal(
    loadConfig({}, { 'gateway-threads': 'auto' }).gateway.threads,
    Math.min(64, availableParallelism()),
  );
});

test('handshakes per address: 256 by default, 0 turns the cap off', () => {
  assert.equal(loadConfig({}).gateway.handshakesPerIp, 256);
  assert.equal(loadConfig({ PORTCULLIS_HANDSHAKES_PER_IP: '0' }).gateway.handshakesPerIp, 0);
  assert.equal(loadConfig({}, { 'handshakes-per-ip': '1000' }).gateway.handshakesPerIp, 1000);
});

test('flags override the environment', () => {
  const c = loadConfig({ PORTCULLIS_API_PORT: '9000' }, { 'api-port': '9100', ports: '5000-5010' });
  assert.equal(c.api.port, 9100);
  assert.deepEqual(c.gateway.ports, { from: 5000, to: 5010 });
});

test('bad values name the variable and what is expected', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORTCULLIS_API_PORT: 'abc' }, /PORTCULLIS_API_PORT: expected a port number/],
    [{ PORTCULLIS_API_PORT: '70000' }, /PORTCULLIS_API_PORT: expected a port number/],
    [{ PORTCULLIS_PORTS: '5000-4000' }, /PORTCULLIS_PORTS: expected a port range/],
    [{ PORTCULLIS_EGRESS_ALLOW: '127.0.0.0/8,nope' }, /PORTCULLIS_EGRESS_ALLOW: "nope" is not an IP/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must start with postgres/],
    [{ PORTCULLIS_ROLE: 'gateway,web' }, /"web" is not one of/],
    [{ PORTCULLIS_ROLE: 'radius' }, /"radius" is not one of all, gateway, api, jobs/],
    [{ PORTCULLIS_IDLE_TIMEOUT: 'forever' }, /PORTCULLIS_IDLE_TIMEOUT: expected a duration/],
    // A longer timer would fire after 1 ms (Node clamps it), not never.
    [{ PORTCULLIS_IDLE_TIMEOUT: '30d' }, /PORTCULLIS_IDLE_TIMEOUT: expected a duration of at most 2147482s/],
    [{ PORTCULLIS_CONNECT_TIMEOUT: '25d' }, /PORTCULLIS_CONNECT_TIMEOUT: expected a duration of at most/],
    [{ PORTCULLIS_ADMIN_TOKEN: 'short' }, /PORTCULLIS_ADMIN_TOKEN: must be at least 16/],
    [{ PORTCULLIS_AUTH_FAIL_LIMIT: '-1' }, /PORTCULLIS_AUTH_FAIL_LIMIT: expected a whole number/],
    [{ PORTCULLIS_AUTH_FAIL_LIMIT: 'ten' }, /PORTCULLIS_AUTH_FAIL_LIMIT: expected a whole number/],
    [{ PORTCULLIS_AUTH_LOCKOUT: '15 minutes' }, /PORTCULLIS_AUTH_LOCKOUT: expected a duration/],
    [
      { PORTCULLIS_GATEWAY_THREADS: '0' },
      /PORTCULLIS_GATEWAY_THREADS: expected a number of threads from 1 to 64/,
    ],
    [{ PORTCULLIS_GATEWAY_THREADS: '65' }, /PORTCULLIS_GATEWAY_THREADS: expected a number of threads/],
    [{ PORTCULLIS_GATEWAY_THREADS: 'many' }, /PORTCULLIS_GATEWAY_THREADS: expected a number of threads/],
    [{ PORTCULLIS_HANDSHAKES_PER_IP: '-1' }, /PORTCULLIS_HANDSHAKES_PER_IP: expected a whole number/],
    [{ PORTCULLIS_HANDSHAKES_PER_IP: '2.5' }, /PORTCULLIS_HANDSHAKES_PER_IP: expected a whole number/],
  ];
  for (const [env, re] of cases)
    assert.throws(
      () => loadConfig(env),
      (e: Error) => e instanceof ConfigError && re.test(e.message),
    );
  assert.throws(() => loadConfig({}, { 'no-such': '1' }), /unknown option --no-such/);
});
