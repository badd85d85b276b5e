// Secrets at rest. Passwords: scrypt (memory-hard, in node:crypto, no native
// addon). API keys and admin tokens: random 256-bit values, so a plain SHA-256
// is enough to store them (no dictionary to attack) and is cheap to check per
// request. Upstream credentials: AES-256-GCM with a key from PORTCULLIS_SECRET
// or DATA_DIR/secret.key (generated on first run, mode 0600).
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (
  pw: string,
  salt: Buffer,
  len: number,
  opts: object,
) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** "scrypt$N$r$p$salt$hash" (base64url) */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const got = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(got, expected);
}

let decoy: Promise<string> | null = null;

/**
 * Spends what verifyPassword spends, for a username that does not exist, and
 * answers false: a wrong password for a real customer and any password for an
 * unknown name then take the same time, so timing does not tell which
 * usernames exist (the credential lock-out caps how many guesses it costs).
 */
export async function verifyUnknown(password: string): Promise<false> {
  decoy ??= hashPassword(randomBytes(18).toString('base64url'));
  await verifyPassword(password, await decoy);
  return false;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A random secret with a readable prefix: "pck_" customer API key, "pca_" admin token, "pcs_" portal session. */
export function newSecret(prefix: 'pck' | 'pca' | 'pcs'): { value: string; hash: string; display: string } {
  const value = `${prefix}_${randomBytes(24).toString('base64url')}`;
  return { value, hash: sha256(value), display: value.slice(0, 10) };
}

export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

/** Encrypts/decrypts short strings (upstream credentials) and keys identities. */
export interface Cipher {
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
  /** keyed hash: equal inputs give equal outputs without revealing them */
  identity(text: string): string;
}

export function createCipher(key: Buffer): Cipher {
  const encKey = createHmac('sha256', key).update('portcullis:enc').digest();
  const idKey = createHmac('sha256', key).update('portcullis:id').digest();
  return {
    encrypt(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', encKey, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return `v1.${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url')}`;
    },
    decrypt(sealed) {
      if (!sealed.startsWith('v1.')) throw new Error('unknown ciphertext format');
      const raw = Buffer.from(sealed.slice(3), 'base64url');
      const d = createDecipheriv('aes-256-gcm', encKey, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
    },
    identity(text) {
      return createHmac('sha256', idKey).update(text).digest('base64url');
    },
  };
}

/** The key: PORTCULLIS_SECRET when given, else DATA_DIR/secret.key (created 0600 on first run). */
export function loadSecretKey(dataDir: string, secret: string | undefined): Buffer {
  if (secret) return createHash('sha256').update(secret).digest();
  const file = join(dataDir, 'secret.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
