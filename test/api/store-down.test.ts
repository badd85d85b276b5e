// Database unavailable: 503 PC_ERR_STORE_UNAVAILABLE with a reason, and normal
// answers again once it is back, without a restart. PostgreSQL only: a TCP
// forwarder sits between the pool and the real server and is closed and
// reopened on the same port. Registered only when DATABASE_URL is set.
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/store/db.ts';
import { DATABASE_URL, openTestStore, type TestStore } from '../helpers/store.ts';
import { type Api, startApi } from './harness.ts';

interface Forwarder {
  port: number;
  close(): Promise<void>;
  open(): Promise<void>;
}

async function forwarder(target: { host: string; port: number }): Promise<Forwarder> {
  let server: Server | null = null;
  const sockets = new Set<Socket>();
  let port = 0;
  async function open() {
    server = createServer((client) => {
      const up = connect(target.port, target.host);
      for (const s of [client, up]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          sockets.delete(s);
          client.destroy();
          up.destroy();
        });
      }
      client.pipe(up);
      up.pipe(client);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  }
  await open();
  return {
    get port() {
      return port;
    },
    open,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}

if (DATABASE_URL) {
  describe('database unavailable (PostgreSQL behind a forwarder)', () => {
    let db: TestStore;
    let fwd: Forwarder;
    let store: Store;
    let api: Api;
    before(async () => {
      db = await openTestStore('postgres');
      const u = new URL(db.url!);
      fwd = await forwarder({ host: u.hostname, port: Number(u.port || 5432) });
      u.hostname = '127.0.0.1';
      u.port = String(fwd.port);
      store = await openStore({ databaseUrl: u.toString(), poolMax: 3 });
      api = await startApi({ store });
    });
    after(async () => {
      await api.close();
      await store.close();
      await fwd.close().catch(() => {});
      await db.close();
    });

    it('503 with a reason on every kind of endpoint while down, normal again once back', async () => {
      assert.equal((await api.req('GET', '/api/v1/plans')).status, 200);
      await fwd.close();

      for (const [m, url, o] of [
        ['GET', '/api/v1/plans', {}],
        ['POST', '/api/v1/customers', { body: { username: 'z', plan: 'Basic' } }],
        ['POST', '/api/v1/upstreams/import', { text: '1.2.3.4:80\n' }],
        ['GET', '/api/proxies.php?api_key=pck_x', { token: null }],
        ['GET', '/api/v1/me', { token: 'pck_x' }],
      ] as const) {
        const r = await api.req(m, url, o);
        assert.equal(r.status, 503, `${m} ${url}: ${r.body}`);
        assert.equal(r.json.error.code, 'PC_ERR_STORE_UNAVAILABLE');
        assert.match(r.json.error.message, /database is unavailable: \S+/);
        assert.ok(r.json.error.details.reason);
      }
      const ready = await api.req('GET', '/readyz', { token: null });
      assert.equal(ready.status, 503);
      assert.match(ready.json.error.message, /store/);
      assert.equal((await api.req('GET', '/healthz', { token: null })).status, 200);

      await fwd.open();
      let ok = 0;
      for (let i = 0; i < 50 && ok === 0; i++) {
        if ((await api.req('GET', '/api/v1/plans')).status === 200) ok++;
        else await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(ok, 1, 'the API did not recover');
      const c = await api.req('POST', '/api/v1/customers', { body: { username: 'back', plan: 'Basic' } });
      assert.equal(c.status, 201, c.body);
      assert.equal((await api.req('GET', '/readyz', { token: null })).status, 200);
    });
  });
}
