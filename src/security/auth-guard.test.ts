// The credential lock-out rules on memory live state with an injected clock
// (and, when REDIS_URL is set, two guards over Redis as two processes), plus
// the batching of security events.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { openTestStore, REDIS_URL } from '../../test/helpers/store.ts';
import type { LiveState } from '../live/live.ts';
import { createMemoryLive } from '../live/memory.ts';
import { createRedisLive } from '../live/redis.ts';
import { createSecurityEventsRepo, type SecurityEventInsert } from '../store/repos/events.ts';
import { type AuthGuard, addressKey, createAuthGuard } from './auth-guard.ts';
import { createSecurityRecorder } from './event-recorder.ts';

const log = pino({ level: 'silent' });
const RULE = { limit: 3, windowMs: 60_000, lockMs: 900_000 };

function setup(opts: { live?: LiveState; exempt?: (ip: string) => boolean; limit?: number } = {}) {
  let t = Date.UTC(2030, 0, 1);
  const now = () => t;
  const live = opts.live ?? createMemoryLive({ now, sweepMs: 0 });
  const rows: SecurityEventInsert[] = [];
  const guard = createAuthGuard({
    live,
    rule: { ...RULE, limit: opts.limit ?? RULE.limit },
    source: 'gateway',
    write: async (r) => {
      rows.push(...r);
    },
    log,
    now,
    exempt: opts.exempt,
  });
  return {
    guard,
    live,
    rows,
    now,
    advance(ms: number) {
      t += ms;
    },
    async close() {
      await guard.stop();
      if (!opts.live) await live.close();
    },
  };
}

/** `n` failures with distinct passwords. */
async function fail(g: AuthGuard, ip: string, username: string | null, n: number, tag = 'x'): Promise<void> {
  for (let i = 0; i < n; i++) g.failed(ip, username, `${username}:${tag}${i}`);
  await g.flush();
}

describe('credential lock-out rules', () => {
  it('the limit-th distinct failure locks the address and the username; nothing before it', async () => {
    const s = setup();
    await s.guard.start();
    await fail(s.guard, '192.0.2.10', 'alice', 2);
    assert.equal(s.guard.locked('192.0.2.10', 'alice'), 0, 'two mistakes lock nobody');
    await fail(s.guard, '192.0.2.10', 'alice', 1, 'y');
    const until = s.now() + RULE.lockMs;
    assert.equal(s.guard.locked('192.0.2.10', 'alice'), until);
    assert.equal(s.guard.locked('192.0.2.10', 'bob'), until, 'the address, whatever username');
    assert.equal(s.guard.locked('192.0.2.10', null), until, 'the address, without a username (tokens)');
    assert.equal(s.guard.locked('198.51.100.7', 'alice'), until, 'the username, from another address');
    assert.equal(s.guard.locked('198.51.100.7', 'bob'), 0, 'others are not concerned');
    s.advance(RULE.lockMs);
    assert.equal(s.guard.locked('192.0.2.10', 'alice'), 0, 'the lock-out ends on time');
    await s.close();
  });

  it('a credential repeated in the window counts once: a 50-thread client with a stale password is one failure', async () => {
    const s = setup();
    await s.guard.start();
    for (let i = 0; i < 50; i++) s.guard.failed('192.0.2.11', 'carol', 'carol:stale');
    await s.guard.flush();
    assert.equal(s.guard.locked('192.0.2.11', 'carol'), 0);
    s.advance(RULE.windowMs);
    // A new window counts it again, once.
    for (let i = 0; i < 50; i++) s.guard.failed('192.0.2.11', 'carol', 'carol:stale');
    await fail(s.guard, '192.0.2.11', 'carol', 1);
    assert.equal(s.guard.locked('192.0.2.11', 'carol'), 0, 'two distinct failures in this window');
    await fail(s.guard, '192.0.2.11', 'carol', 1, 'z');
    assert.ok(s.guard.locked('192.0.2.11', 'carol') > 0, 'the third distinct one locks');
    await s.close();
  });

  it('failures outside the window are forgotten', async () => {
    const s = setup();
    await s.guard.start();
    await fail(s.guard, '192.0.2.12', 'dave', 2);
    s.advance(RULE.windowMs + 1);
    await fail(s.guard, '192.0.2.12', 'dave', 2, 'y');
    assert.equal(s.guard.locked('192.0.2.12', 'dave'), 0);
    await s.close();
  });

  it('an address that signed in as the user stays clear of a lock-out of that username, not of its own', async () => {
    const s = setup();
    await s.guard.start();
    s.guard.succeeded('203.0.113.5', 'erin');
    // An attacker sprays erin's username from elsewhere.
    await fail(s.guard, '192.0.2.13', 'erin', 3);
    assert.ok(s.guard.locked('198.51.100.9', 'erin') > 0, 'a new address is refused');
    assert.equal(s.guard.locked('203.0.113.5', 'erin'), 0, "the owner's address is not");
    await fail(s.guard, '203.0.113.5', null, 3, 'tok');
    assert.ok(s.guard.locked('203.0.113.5', 'erin') > 0, 'its own failures lock the address itself');
    await s.close();
  });

  it('an exempt (whitelisted) address is never refused for an address lock-out', async () => {
    const s = setup({ exempt: (ip) => ip === '192.0.2.14' });
    await s.guard.start();
    await fail(s.guard, '192.0.2.14', null, 3);
    assert.equal(s.guard.locked('192.0.2.14', null), 0);
    assert.ok(
      s.guard.addressLocked('192.0.2.14') > 0,
      'the lock-out exists; the exemption is applied at the check',
    );
    await s.close();
  });

  it('IPv6 addresses are counted per /64; IPv4-mapped addresses as IPv4', async () => {
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('192.0.2.1'), '192.0.2.1');
    const s = setup();
    await s.guard.start();
    s.guard.failed('2001:db8:1:2::1', null, 'a');
    s.guard.failed('2001:db8:1:2::2', null, 'b');
    s.guard.failed('2001:db8:1:2:ffff::3', null, 'c');
    await s.guard.flush();
    assert.ok(s.guard.locked('2001:db8:1:2::99', null) > 0);
    assert.equal(s.guard.locked('2001:db8:1:3::1', null), 0);
    await s.close();
  });

  it('limit 0 disables everything', async () => {
    const s = setup({ limit: 0 });
    await s.guard.start();
    assert.equal(s.guard.enabled, false);
    await fail(s.guard, '192.0.2.15', 'frank', 20);
    assert.equal(s.guard.locked('192.0.2.15', 'frank'), 0);
    assert.deepEqual(s.rows, []);
    await s.close();
  });

  it('records one lock-out event per lock-out and one failure row per address per batch', async () => {
    const s = setup();
    await s.guard.start();
    for (let i = 0; i < 40; i++) s.guard.failed('192.0.2.16', `user${i % 4}`, `p${i}`);
    await s.guard.flush();
    const lockouts = s.rows.filter((r) => r.kind === 'auth_lockout');
    // The address locks at its 3rd failure, each of user0..user3 at its own 3rd.
    assert.deepEqual(
      lockouts.map((r) => (r.detail as { key: string }).key).sort(),
      ['ip:192.0.2.16', 'u:user0', 'u:user1', 'u:user2', 'u:user3'].sort(),
    );
    for (const r of lockouts) assert.equal(r.ip, '192.0.2.16');
    const failures = s.rows.filter((r) => r.kind === 'auth_failures');
    assert.equal(failures.length, 1, 'one row for the address');
    assert.equal((failures[0].detail as { count: number }).count, 40);
    assert.equal(failures[0].ip, '192.0.2.16');
    await s.close();
  });

  it('a starting process loads the lock-outs in force', async () => {
    const live = createMemoryLive({ now: () => Date.UTC(2030, 0, 1), sweepMs: 0 });
    const a = setup({ live });
    await a.guard.start();
    await fail(a.guard, '192.0.2.17', 'gina', 3);
    const b = setup({ live });
    await b.guard.start();
    assert.ok(b.guard.locked('192.0.2.17', null) > 0);
    assert.ok(b.guard.locked('198.51.100.1', 'gina') > 0);
    await b.guard.unlock('u:gina');
    assert.equal(a.guard.locked('198.51.100.1', 'gina'), 0, 'unlock reaches every guard');
    await a.close();
    await b.close();
    await live.close();
  });

  it('a lift published while a starting process loads the lock-outs is not undone by the load', async () => {
    const live = createMemoryLive({ now: () => Date.UTC(2030, 0, 1), sweepMs: 0 });
    const a = setup({ live });
    await a.guard.start();
    await fail(a.guard, '192.0.2.18', null, 3);
    // b reads the lock-outs in force (the address is in that read), and the
    // read is held until the lift has arrived, as a slow Redis answer would be.
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow: LiveState = {
      ...live,
      async authLocks() {
        const read = await live.authLocks();
        await gate;
        return read;
      },
    };
    const b = setup({ live: slow });
    const starting = b.guard.start();
    await a.guard.unlock('ip:192.0.2.18');
    release();
    await starting;
    assert.equal(b.guard.locked('192.0.2.18', null), 0, 'the lift wins over the older read');
    assert.equal(a.guard.locked('192.0.2.18', null), 0);
    await a.close();
    await b.close();
    await live.close();
  });
});

describe('security events in the store', () => {
  it('a username the database cannot store as is (NUL) does not cost the batch', async () => {
    const store = await openTestStore();
    const live = createMemoryLive({ sweepMs: 0 });
    const repo = createSecurityEventsRepo(store.db);
    const guard = createAuthGuard({ live, rule: RULE, source: 'gateway', write: repo.recordMany, log });
    try {
      await guard.start();
      for (let i = 0; i < 3; i++) await guard.failed('192.0.2.99', 'nul\u0000name', `p${i}`);
      guard.failed('192.0.2.98', 'plain', 'q');
      await guard.flush();
      const rows = await repo.list(100);
      assert.deepEqual(rows.map((r) => `${r.kind} ${r.ip}`).sort(), [
        'auth_failures 192.0.2.98',
        'auth_failures 192.0.2.99',
        'auth_lockout 192.0.2.99',
        'auth_lockout 192.0.2.99',
      ]);
      const lock = rows.find((r) => (r.detail as { scope: string }).scope === 'username');
      assert.equal((lock?.detail as { username?: string } | undefined)?.username, 'nul\ufffdname');
    } finally {
      await guard.stop();
      await live.close();
      await store.close();
    }
  });
});

describe('security event batches', () => {
  it('bounded: at most maxRows rows per flush, the rest summed without an address', async () => {
    const batches: SecurityEventInsert[][] = [];
    const r = createSecurityRecorder({
      write: async (rows) => {
        batches.push(rows);
      },
      log,
      maxRows: 10,
      flushMs: 3_600_000,
    });
    for (let i = 0; i < 1000; i++) r.failure(`10.0.${i >> 8}.${i & 255}`, 'x', 'gateway');
    await r.flush();
    r.stop();
    assert.equal(batches.length, 1, 'one insert');
    assert.equal(batches[0].length, 10);
    const rest = batches[0].find((row) => row.ip === null)!;
    assert.equal((rest.detail as { count: number }).count, 1000 - 9);
    await r.flush();
    assert.equal(batches.length, 1, 'nothing to write, no insert');
  });
});

if (REDIS_URL) {
  const url = REDIS_URL;
  describe('credential lock-out over Redis: two processes', () => {
    const prefix = `pctest:${randomBytes(4).toString('hex')}:`;
    const lives: LiveState[] = [];
    after(async () => {
      for (const l of lives) await l.close();
    });
    it('failures on two processes add up, and the lock-out reaches both at once', async () => {
      const open = async () => {
        const l = createRedisLive({ url, prefix });
        lives.push(l);
        await l.ready();
        const g = createAuthGuard({ live: l, rule: RULE, source: 'gateway', write: async () => {}, log });
        await g.start();
        return g;
      };
      const [a, b] = [await open(), await open()];
      const ip = `192.0.2.${randomBytes(1)[0]}`;
      a.failed(ip, 'henry', '1');
      b.failed(ip, 'henry', '2');
      await Promise.all([a.flush(), b.flush()]);
      assert.equal(a.locked(ip, 'henry') + b.locked(ip, 'henry'), 0);
      b.failed(ip, 'henry', '3');
      await b.flush();
      assert.ok(b.locked(ip, null) > 0, 'the process that counted the third');
      const deadline = Date.now() + 2000;
      while (a.locked(ip, null) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.ok(a.locked(ip, null) > 0, 'the other, through the published event');
      assert.ok(a.locked('198.51.100.2', 'henry') > 0);
      await a.unlock('u:henry');
      await a.unlock(`ip:${ip}`);
      await Promise.all([a.stop(), b.stop()]);
    });
  });
}
