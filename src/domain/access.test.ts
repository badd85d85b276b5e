import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAccess, quotaExhausted, threadCap } from './access.ts';
import type { CustomerPolicy } from './policy.ts';

const now = Date.parse('2026-11-23T12:00:00Z');
function policy(over: Partial<CustomerPolicy> = {}): CustomerPolicy {
  return {
    customerId: 1,
    username: 'alice',
    passwordHash: '',
    planId: 1,
    planName: 'Basic',
    status: 'active',
    bannedUntil: 0,
    expiresAt: 0,
    startOnFirstUse: false,
    firstUsedAt: 0,
    periodAnchor: 0,
    limits: {
      threads: 10,
      strikeMode: 'hard',
      threadsHardCap: 0,
      strikeWindowSec: 900,
      lockoutSec: 3600,
      rps: 10,
      bandwidth: 0,
      connBandwidth: 0,
      ipMaxConns: 0,
      ipRps: 0,
      quotaBytes: 1000,
      quotaPeriod: 'month',
    },
    ...over,
  };
}

test('active customer passes', () => assert.equal(checkAccess(policy(), now, 0), null));
test('ban, timed ban expiry, disabled', () => {
  assert.equal(checkAccess(policy({ status: 'banned' }), now, 0), 'PC_ERR_BANNED');
  assert.equal(checkAccess(policy({ status: 'banned', bannedUntil: now + 1 }), now, 0), 'PC_ERR_BANNED');
  assert.equal(checkAccess(policy({ status: 'banned', bannedUntil: now }), now, 0), null);
  assert.equal(checkAccess(policy({ status: 'disabled' }), now, 0), 'PC_ERR_DISABLED');
});
test('expiry is exclusive at the instant', () => {
  assert.equal(checkAccess(policy({ expiresAt: now }), now, 0), 'PC_ERR_EXPIRED');
  assert.equal(checkAccess(policy({ expiresAt: now + 1 }), now, 0), null);
});
test('lock-out', () => {
  assert.equal(checkAccess(policy(), now, now + 1000), 'PC_ERR_LOCKED_OUT');
  assert.equal(checkAccess(policy(), now, now), null);
});
test('quota and thread cap', () => {
  assert.equal(quotaExhausted(policy(), 999), false);
  assert.equal(quotaExhausted(policy(), 1000), true);
  const p = policy();
  assert.equal(threadCap(p), 10);
  p.limits.strikeMode = 'soft';
  p.limits.threadsHardCap = 15;
  assert.equal(threadCap(p), 15);
  p.limits.threads = 0;
  assert.equal(threadCap(p), 0);
});
