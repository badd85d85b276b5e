// Two real gateway processes (`portcullis up --role gateway`, child
// processes) serving the SAME port through SO_REUSEPORT, sharing one
// PostgreSQL database and one Redis (random key prefix). The test process runs
// the API on the same store and Redis, as an `--role api` process would.
//
// - 200 concurrent CONNECT attempts, spread by the kernel over both processes,
//   with a threads limit of 50: exactly 50 admitted (200), 150 refused (429);
//   all released after close.
// - Kick and ban through the API close every tunnel on both processes within 1 s.
// - Requests/s and bandwidth of one customer are one budget across both.
// - SIGKILL of one process: its threads are released (liveness TTL), the
//   other's stay counted.
//
// Registered only when DATABASE_URL and REDIS_URL are both set (the embedded
// store and memory live state cannot be shared between processes);
// kick-api.test.ts is the single-process variant that always runs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pino from 'pino';
import { buildApp } from '../../src/api/app.ts';
import { bootstrap } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import { createRedisLive, type RedisLive } from '../../src/live/redis.ts';
import { customers, plans, upstreams } from '../../src/store/schema.ts';
import { createCipher, hashPassword } from '../../src/store/secrets.ts';
import { eventually } from '../gateway/harness.ts';
import { type Origin, startOrigin } from '../helpers/origin.ts';
import { freePort } from '../helpers/peers.ts';
import { DATABASE_URL, openTestStore, REDIS_URL, type TestStore } from '../helpers/store.ts';
import { startUp, stopUp, type UpChild } from '../helpers/up.ts';
import { measureRate } from './bandwidth.ts';
import { type EchoServer, openTunnel, startEcho, type Tunnel, within } from './kick-tunnels.ts';

const SECRET = 'multi-process-test-secret-0123456789';
const RPS = 10;
const BANDWIDTH = 1_000_000;

if (DATABASE_URL && REDIS_URL) {
  describe('two gateway processes on one port', { timeout: 180_000 }, () => {
    const prefix = `pc-mp-${randomBytes(4).toString('hex')}:`;
    const dirs: string[] = [];
    const children: UpChild[] = [];
    let store: TestStore;
    let live: RedisLive;
    let redis: Redis;
    let app: FastifyInstance;
    let token: string;
    let target: EchoServer;
    let origin: Origin;
    let port: number;
    let cid: number;

    async function api(method: string, url: string, body?: unknown) {
      const r = await app.inject({
        method: method as 'POST',
        url,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        payload: body ? JSON.stringify(body) : undefined,
      });
      return { status: r.statusCode, body: r.body };
    }

    const open = (n: number) =>
      Promise.all(
        Array.from({ length: n }, () => openTunnel(port, 'mia', 'pw', target.target, '127.0.0.1', 15_000)),
      );
    /** thread counts per process as Redis holds them (one hash field per process) */
    const fields = async () => Object.values(await redis.hgetall(`${prefix}thr:${cid}`)).map(Number);
    const destroy = (ts: Tunnel[]) => {
      for (const t of ts) t.socket.destroy();
    };

    before(async () => {
      store = await openTestStore('postgres');
      target = await startEcho();
      origin = await startOrigin();
      port = await freePort();
      const [plan] = await store.db
        .insert(plans)
        .values({ name: 'mp', threads: 50, rps: 0 })
        .returning({ id: plans.id });
      const [c] = await store.db
        .insert(customers)
        .values({
          username: 'mia',
          passwordHash: await hashPassword('pw'),
          apiKeyHash: randomBytes(16).toString('hex'),
          apiKeyPrefix: 'pck_mp',
          planId: plan.id,
        })
        .returning({ id: customers.id, passwordHash: customers.passwordHash });
      cid = c.id;
      // One customer per shared limit: requests/s and bandwidth.
      const limited = await store.db
        .insert(plans)
        .values([
          { name: 'mp-rps', threads: 500, rps: RPS },
          { name: 'mp-bw', threads: 50, rps: 0, bandwidth: BANDWIDTH },
        ])
        .returning({ id: plans.id });
      await store.db.insert(customers).values(
        ['rae', 'bea'].map((username, i) => ({
          username,
          passwordHash: c.passwordHash,
          apiKeyHash: randomBytes(16).toString('hex'),
          apiKeyPrefix: `pck_${username}`,
          planId: limited[i].id,
        })),
      );
      await store.db.insert(upstreams).values({
        protocol: 'direct',
        host: '',
        port: 0,
        identity: 'mp-direct',
        boundPort: port,
      });

      const dataDir = mkdtempSync(join(tmpdir(), 'pc-mp-api-'));
      dirs.push(dataDir);
      const config = loadConfig({
        PORTCULLIS_DATA_DIR: dataDir,
        PORTCULLIS_API_RATE_LIMIT: '0',
        PORTCULLIS_SECRET: SECRET,
        PORTCULLIS_ROLE: 'api',
      });
      token = (await bootstrap({ config, store })).generatedToken!;
      live = createRedisLive({ url: REDIS_URL!, prefix });
      await live.ready();
      redis = new Redis(REDIS_URL!);
      app = await buildApp({
        config,
        store,
        live,
        cipher: createCipher(Buffer.alloc(32, 7)),
        log: pino({ level: 'silent' }),
      });

      for (let i = 0; i < 2; i++) {
        const dir = mkdtempSync(join(tmpdir(), `pc-mp-gw${i}-`));
        dirs.push(dir);
        // One after the other: both run first-run bootstrap on the shared database.
        children.push(
          await startUp({
            DATABASE_URL: store.url!,
            REDIS_URL: REDIS_URL!,
            PORTCULLIS_REDIS_PREFIX: prefix,
            PORTCULLIS_ROLE: 'gateway',
            PORTCULLIS_PORTS: `${port}-${port}`,
            PORTCULLIS_GATEWAY_HOST: '127.0.0.1',
            PORTCULLIS_EGRESS_ALLOW: '127.0.0.0/8',
            PORTCULLIS_DATA_DIR: dir,
            PORTCULLIS_SECRET: SECRET,
            PORTCULLIS_HEALTH_INTERVAL: '1h',
            PORTCULLIS_LOG_LEVEL: 'info',
          }),
        );
      }
    });

    after(async () => {
      await Promise.all(children.map((c) => stopUp(c)));
      await app?.close();
      await live?.close();
      redis?.disconnect();
      await target?.close();
      await origin?.close();
      await store?.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    test('the kernel spreads connections over both processes (and warms their credential caches)', async () => {
      // Tunnels held in small batches until both processes hold some: each
      // process verifies the password once (scrypt), then remembers it.
      const held: Tunnel[] = [];
      try {
        for (let i = 0; i < 8 && (await fields()).length < 2; i++) held.push(...(await open(5)));
        assert.ok(held.every((t) => t.status === 200));
        assert.equal((await fields()).length, 2, 'both processes hold tunnels');
      } finally {
        destroy(held);
      }
      await eventually(async () => (await live.threads(cid)) === 0, 5000);
    });

    test('200 concurrent attempts over both processes, threads 50: exactly 50 admitted, all released', async () => {
      const ts = await open(200);
      try {
        const ok = ts.filter((t) => t.status === 200).length;
        const refused = ts.filter((t) => t.status === 429);
        assert.equal(ok, 50, `admitted ${ok}`);
        assert.equal(refused.length, 150, `refused ${refused.length}`);
        for (const t of refused) assert.match(t.head, /threads_exceeded/);
        assert.equal(await live.threads(cid), 50);
        const perProcess = await fields();
        assert.equal(
          perProcess.reduce((a, b) => a + b, 0),
          50,
          `per process: ${perProcess}`,
        );
      } finally {
        destroy(ts);
      }
      await eventually(async () => (await live.threads(cid)) === 0, 5000);
    });

    test('kick through the API closes every tunnel on both processes within 1 s', async () => {
      const ts = await open(40);
      try {
        assert.equal(ts.filter((t) => t.status === 200).length, 40);
        assert.equal((await fields()).length, 2, 'tunnels on both processes');
        assert.equal((await api('POST', '/api/v1/customers/mia/kick')).status, 200);
        assert.ok(
          await within(
            1000,
            ts.map((t) => t.closed),
          ),
          'all closed within 1 s',
        );
      } finally {
        destroy(ts);
      }
      await eventually(async () => (await live.threads(cid)) === 0, 5000);
    });

    test('ban through the API closes every tunnel within 1 s and both processes refuse (403)', async () => {
      const ts = await open(40);
      const racing: Tunnel[] = [];
      try {
        assert.equal((await fields()).length, 2, 'tunnels on both processes');
        assert.equal((await api('POST', '/api/v1/customers/mia/ban', { reason: 'test' })).status, 200);
        assert.ok(
          await within(
            1000,
            ts.map((t) => t.closed),
          ),
          'all closed within 1 s',
        );
        // A reconnect racing the ban can be admitted on the old policy until
        // its process has reloaded the customer; it is closed then.
        await eventually(async () => {
          const again = await open(10);
          racing.push(...again);
          return again.every((t) => t.status === 403 && /banned/.test(t.head));
        }, 5000);
        const raced = racing.filter((t) => t.status === 200);
        assert.ok(
          await within(
            1000,
            raced.map((t) => t.closed),
          ),
          `${raced.length} racing tunnels closed`,
        );
      } finally {
        destroy(ts);
        destroy(racing);
        assert.equal((await api('POST', '/api/v1/customers/mia/unban')).status, 200);
      }
      await eventually(async () => {
        const [t] = await open(1);
        t.socket.destroy();
        return t.status === 200;
      }, 5000);
      await eventually(async () => (await live.threads(cid)) === 0, 5000);
    });

    test('requests/s is one bucket across both processes', async () => {
      // Burst = rate: RPS connections at once, plus what refills while the
      // attempts run. Each process on its own bucket would admit about twice.
      const t0 = performance.now();
      const ts = await Promise.all(
        Array.from({ length: 60 }, () => openTunnel(port, 'rae', 'pw', target.target, '127.0.0.1', 15_000)),
      );
      const elapsedS = (performance.now() - t0) / 1000;
      try {
        const ok = ts.filter((t) => t.status === 200).length;
        const limited = ts.filter((t) => t.status === 429 && /rate_limited/.test(t.head)).length;
        assert.equal(ok + limited, 60, `every attempt answered 200 or 429 rate_limited (${ok} + ${limited})`);
        const most = RPS + Math.ceil(RPS * elapsedS);
        assert.ok(
          ok >= RPS && ok <= most,
          `admitted ${ok} in ${elapsedS.toFixed(2)} s; at most ${most} allowed`,
        );
      } finally {
        destroy(ts);
      }
      await eventually(async () => (await live.threads(cid)) === 0, 5000);
    });

    test('bandwidth is one cap across both processes: 20 sockets get 1 MB/s ±5%', async (t) => {
      const run = await measureRate(port, origin, 'bea', { sockets: 20, via: 'connect' });
      const ratio = run.rate / BANDWIDTH;
      t.diagnostic(`${(run.rate / 1e6).toFixed(3)} MB/s, ${(ratio * 100).toFixed(1)}% of the cap`);
      assert.ok(
        Math.abs(ratio - 1) <= 0.05,
        `${(run.rate / 1e6).toFixed(3)} MB/s (${(ratio * 100).toFixed(1)}%)`,
      );
    });

    test('SIGKILL of one process releases its threads; the other keeps counting', async () => {
      const ts = await open(30);
      try {
        assert.equal(ts.filter((t) => t.status === 200).length, 30);
        assert.equal((await fields()).length, 2, 'tunnels on both processes');
        const victim = children[1];
        victim.proc.kill('SIGKILL');
        await new Promise((r) => victim.proc.once('exit', r));
        // The dead process's field goes when its liveness key expires (5 s TTL).
        // (Fields of dead processes are reaped by the next count in Redis.)
        await eventually(async () => {
          await live.threads(cid);
          return (await fields()).length === 1;
        }, 15_000);
        const survivors = ts.filter((t) => !t.socket.destroyed).length;
        assert.ok(survivors > 0 && survivors < 30, `survivors ${survivors}`);
        assert.equal(await live.threads(cid), survivors);
      } finally {
        destroy(ts);
      }
      await eventually(async () => (await live.threads(cid)) === 0, 5000);
    });
  });
}
