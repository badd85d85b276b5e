import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  createCipher,
  hashPassword,
  loadSecretKey,
  newSecret,
  sha256,
  verifyPassword,
  verifyUnknown,
} from './secrets.ts';

test('password hashes verify and differ per salt', async () => {
  const a = await hashPassword('hunter2');
  const b = await hashPassword('hunter2');
  assert.notEqual(a, b);
  assert.ok(await verifyPassword('hunter2', a));
  assert.equal(await verifyPassword('hunter3', a), false);
  assert.equal(await verifyPassword('x', 'garbage'), false);
});

test('an unknown username is refused after the same scrypt work as a wrong password', async () => {
  // The decoy hash is one of ours (verifyPassword accepts its format); no password opens it.
  for (const p of ['', 'hunter2', 'x'.repeat(300)]) assert.equal(await verifyUnknown(p), false);
});

test('secrets carry a prefix and are stored as SHA-256', () => {
  const s = newSecret('pck');
  assert.match(s.value, /^pck_[A-Za-z0-9_-]{32}$/);
  assert.equal(s.hash, sha256(s.value));
  assert.ok(s.value.startsWith(s.display));
});

test('cipher round-trips, detects tampering, and keys identities', () => {
  const c = createCipher(Buffer.alloc(32, 7));
  const sealed = c.encrypt('user:pa$$');
  assert.notEqual(sealed, c.encrypt('user:pa$$'));
  assert.equal(c.decrypt(sealed), 'user:pa$$');
  // One bit of the last ciphertext byte flipped. (Rewriting the last two
  // base64url characters left the text unchanged when the random last byte
  // was 0x04: CI failed 1 run in 256.)
  const raw = Buffer.from(sealed.slice(3), 'base64url');
  raw[raw.length - 1] ^= 1;
  const tampered = `v1.${raw.toString('base64url')}`;
  assert.notEqual(tampered, sealed);
  assert.throws(() => c.decrypt(tampered));
  assert.equal(c.identity('x'), c.identity('x'));
  assert.notEqual(c.identity('x'), createCipher(Buffer.alloc(32, 8)).identity('x'));
});

test('secret key file is created once with mode 0600', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-key-'));
  const k1 = loadSecretKey(dir, undefined);
  assert.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600);
  assert.deepEqual(loadSecretKey(dir, undefined), k1);
  assert.notDeepEqual(loadSecretKey(dir, 'a-long-operator-secret'), k1);
});
