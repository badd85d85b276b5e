// Credential lock-out, fail2ban-like, shared by the gateway (HTTP Basic on
// 407, SOCKS5 RFC 1929) and the API (admin tokens, API keys, customer
// passwords). Semantics and defaults: docs/security.md.
//
// - Counting: `limit` failed attempts within `window` lock the client address
//   (`ip:<a.b.c.d>`, IPv6 by /64) and, separately, the username (`u:<name>`)
//   for `lockout`. A credential that already failed in the window counts once:
//   a scraper with 50 threads and one stale password is one failure, a
//   guesser's every new password is one more.
// - Sharing: counts and lock-outs live in live state (Redis across processes);
//   the lock-out that a count sets is published, and every process keeps the
//   lock-outs in force in memory. The check is therefore a Map lookup with no
//   I/O; with no lock-out anywhere it is two size reads. A process starting
//   loads the lock-outs in force.
// - No oracle: a username is counted and locked the same whether it exists or
//   not, and a locked attempt is refused before its password is checked.
// - Not a weapon: an address from which the customer signed in successfully
//   in the last day (this process) is not refused for a lock-out of their
//   username, so an attacker spraying a username does not cut its owner off.
//   An address on a customer's whitelist (`exempt`) is never refused for an
//   address lock-out, and IP-authenticated access never reaches this guard.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { formatIp, parseIp } from '../domain/cidr.ts';
import type { LiveState } from '../live/live.ts';
import type { SecurityEventInsert } from '../store/repos/events.ts';
import { createSecurityRecorder, type SecurityRecorder } from './event-recorder.ts';

export interface AuthRule {
  /** failed attempts that lock; 0 disables */
  limit: number;
  windowMs: number;
  lockMs: number;
}

export function authRule(c: { limit: number; windowSec: number; lockoutSec: number }): AuthRule {
  return { limit: c.limit, windowMs: c.windowSec * 1000, lockMs: c.lockoutSec * 1000 };
}

export interface AuthGuardOptions {
  live: LiveState;
  rule: AuthRule;
  /** who counts, in logs and security events */
  source: 'gateway' | 'api';
  /** writes security events (batched by the guard's recorder) */
  write: (rows: SecurityEventInsert[]) => Promise<void>;
  log: Logger;
  now?: () => number;
  /** addresses never refused for an address lock-out (the gateway: client addresses on a whitelist) */
  exempt?: (ip: string) => boolean;
  /** how long a successful sign-in keeps (username, address) clear of the username's lock-out; default 24 h */
  trustMs?: number;
  /** recorder settings (tests) */
  flushMs?: number;
}

export interface AuthGuard {
  readonly enabled: boolean;
  /** Loads the lock-outs in force and follows new ones. */
  start(): Promise<void>;
  /** The lock-out end (ms) that refuses an attempt from `ip` as `username`, or 0. No I/O. */
  locked(ip: string | undefined, username: string | null): number;
  /** The address lock-out end of `ip`, or 0 (ignores `exempt`: the API checks whitelists itself). */
  addressLocked(ip: string | undefined): number;
  /** The username lock-out end, or 0; 0 too when `ip` recently signed in as `username`. */
  usernameLocked(username: string, ip: string | undefined): number;
  /** A sign-in with a password succeeded: `ip` becomes trusted for `username`. */
  succeeded(ip: string | undefined, username: string): void;
  /**
   * A sign-in failed. `secret` identifies the credential presented (e.g. the
   * raw Authorization value); a repeat within the window is not counted again.
   * Resolves once counted (one live-state call; a repeat resolves at once), so
   * the failure that sets a lock-out is answered after the lock-out is in
   * force here; never rejects. Security events are written later, in batches.
   */
  failed(ip: string | undefined, username: string | null, secret: string, protocol?: string): Promise<void>;
  /** Lifts a lock-out everywhere (`ip:<address>` or `u:<username>`). */
  unlock(key: string): Promise<void>;
  /** Settles counts in flight and writes pending security events (tests, stop). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Keys kept at most per table (an attacker chooses them); a full table is cleared. */
const MAX_KEYS = 50_000;
/** Addresses remembered per username for the trusted-address rule. */
const MAX_TRUSTED_PER_USER = 64;
const MAX_USERNAME = 64;
const DONE: Promise<void> = Promise.resolve();

/** The lock-out key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's block). */
export function addressKey(text: string): string {
  // remoteAddress and request.ip are plain dotted quads on IPv4 sockets: no parsing.
  if (text.indexOf(':') < 0) return text;
  const ip = parseIp(text);
  if (!ip) return text;
  if (ip.version === 4) return formatIp(ip);
  return `${formatIp({ version: 6, value: ip.value & ~0xffffffffffffffffn })}/64`;
}

export function createAuthGuard(o: AuthGuardOptions): AuthGuard {
  const { live, rule, log, source } = o;
  const now = o.now ?? Date.now;
  const enabled = rule.limit > 0 && rule.windowMs > 0 && rule.lockMs > 0;
  const recorder: SecurityRecorder = createSecurityRecorder({ write: o.write, log, now, flushMs: o.flushMs });
  /** lock-outs in force: address key -> end, username -> end */
  const byAddress = new Map<string, number>();
  const byUsername = new Map<string, number>();
  /** credential fingerprint -> end of the window in which it was counted */
  const counted = new Map<string, number>();
  /** username -> addresses that signed in; two generations, rotated every trustMs */
  let trusted = new Map<string, Set<string>>();
  let trustedBefore = new Map<string, Set<string>>();
  const trustMs = o.trustMs ?? 86_400_000;
  let rotateAt = now() + trustMs;
  const pending = new Set<Promise<void>>();
  let unsubscribe: (() => void) | null = null;

  function install(key: string, until: number): void {
    const isAddress = key.startsWith('ip:');
    if (!isAddress && !key.startsWith('u:')) return;
    const table = isAddress ? byAddress : byUsername;
    const k = key.slice(isAddress ? 3 : 2);
    if (until <= now()) table.delete(k);
    else {
      if (table.size >= MAX_KEYS && !table.has(k)) {
        prune(now());
        // Still full: the oldest go first (insertion order), memory stays bounded.
        for (const old of table.keys()) {
          if (table.size < MAX_KEYS) break;
          table.delete(old);
        }
      }
      table.set(k, until);
    }
  }

  function prune(t: number): void {
    for (const table of [byAddress, byUsername, counted])
      for (const [k, until] of table) if (until <= t) table.delete(k);
    if (counted.size >= MAX_KEYS) counted.clear();
    if (t >= rotateAt) {
      trustedBefore = trusted;
      trusted = new Map();
      rotateAt = t + trustMs;
    }
  }

  const sweep = setInterval(() => prune(now()), Math.min(60_000, trustMs));
  sweep.unref();

  function isTrusted(username: string, ip: string | undefined): boolean {
    if (ip === undefined) return false;
    return trusted.get(username)?.has(ip) === true || trustedBefore.get(username)?.has(ip) === true;
  }

  function addressLocked(ip: string | undefined): number {
    if (byAddress.size === 0 || ip === undefined) return 0;
    const k = addressKey(ip);
    const until = byAddress.get(k);
    if (until === undefined) return 0;
    if (until > now()) return until;
    byAddress.delete(k);
    return 0;
  }

  function usernameLocked(username: string, ip: string | undefined): number {
    if (byUsername.size === 0) return 0;
    const until = byUsername.get(username);
    if (until === undefined) return 0;
    if (until <= now()) {
      byUsername.delete(username);
      return 0;
    }
    return isTrusted(username, ip) ? 0 : until;
  }

  function count(
    key: string,
    ip: string | undefined,
    username: string | null,
    protocol?: string,
  ): Promise<void> {
    const p: Promise<void> = live
      .authFailure(key, rule.limit, rule.windowMs, rule.lockMs)
      .then(async (r) => {
        if (r.until <= 0) return;
        install(key, r.until);
        if (!r.fresh) return;
        const scope = key.startsWith('ip:') ? 'address' : 'username';
        const until = new Date(r.until).toISOString();
        log.warn(
          {
            code: 'PC_ERR_AUTH_LOCKED',
            reason: 'auth_locked',
            source,
            scope,
            key,
            client: ip,
            username,
            until,
          },
          `credential lock-out: ${rule.limit} failed attempts within ${rule.windowMs / 1000} s`,
        );
        recorder.add({
          kind: 'auth_lockout',
          ip: ip ?? null,
          at: new Date(now()),
          detail: {
            source,
            scope,
            key,
            username,
            protocol,
            until,
            limit: rule.limit,
            windowSec: rule.windowMs / 1000,
          },
        });
        // Every process installs it; not awaited (the answer waits for the
        // count only). A lost event leaves the others counting on until their
        // own next failure meets the lock-out in live state.
        const published = live.publish({ type: 'auth-lock', key, until: r.until }).catch((err: unknown) => {
          log.warn({ err, key }, 'credential lock-out not published to other processes');
        });
        pending.add(published);
        published.finally(() => pending.delete(published));
      })
      .catch((err: unknown) => log.warn({ err, key }, 'credential failure not counted'))
      .finally(() => pending.delete(p));
    pending.add(p);
    return p;
  }

  return {
    enabled,
    async start() {
      if (!enabled) return;
      // Keys an event set or lifted while the read below was under way: the
      // event is newer than the read, so the read must not undo it.
      let newer: Set<string> | null = new Set();
      unsubscribe = live.subscribe((e) => {
        if (e.type !== 'auth-lock') return;
        install(e.key, e.until);
        newer?.add(e.key);
      });
      try {
        for (const [key, until] of await live.authLocks()) if (!newer.has(key)) install(key, until);
      } catch (err) {
        log.warn({ err }, 'credential lock-outs in force could not be loaded; following new ones');
      } finally {
        newer = null;
      }
    },
    locked(ip, username) {
      // The common case, on every sign-in: no lock-out anywhere.
      if (byAddress.size === 0 && byUsername.size === 0) return 0;
      const a = ip !== undefined && o.exempt?.(ip) ? 0 : addressLocked(ip);
      const u = username === null ? 0 : usernameLocked(username, ip);
      return a > u ? a : u;
    },
    addressLocked,
    usernameLocked,
    succeeded(ip, username) {
      if (!enabled || ip === undefined) return;
      let set = trusted.get(username);
      if (set === undefined) {
        if (trusted.size >= MAX_KEYS) trusted = new Map();
        set = new Set();
        trusted.set(username, set);
      } else if (set.has(ip)) return;
      if (set.size < MAX_TRUSTED_PER_USER) set.add(ip);
    },
    failed(ip, username, secret, protocol) {
      if (!enabled) return DONE;
      recorder.failure(ip, username, source, protocol);
      const t = now();
      const fp = createHash('sha256').update(secret).digest('base64');
      const seen = counted.get(fp);
      if (seen !== undefined && seen > t) return DONE;
      if (counted.size >= MAX_KEYS) prune(t);
      counted.set(fp, t + rule.windowMs);
      const byAddress = ip === undefined ? DONE : count(`ip:${addressKey(ip)}`, ip, username, protocol);
      if (username === null || username.length === 0 || username.length > MAX_USERNAME) return byAddress;
      return Promise.all([byAddress, count(`u:${username}`, ip, username, protocol)]).then(() => {});
    },
    async unlock(key) {
      await live.clearAuthLock(key);
      install(key, 0);
      await live.publish({ type: 'auth-lock', key, until: 0 });
    },
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
      await recorder.flush();
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = null;
      clearInterval(sweep);
      await this.flush();
      recorder.stop();
    },
  };
}
