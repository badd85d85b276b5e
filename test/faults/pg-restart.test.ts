// PostgreSQL restarted. A cluster of the test's own (initdb + pg_ctl as the
// `postgres` user, on a free loopback port; the machine's shared server is
// never touched) is stopped with `pg_ctl -m immediate` (a crash: every
// connection cut at once) while the API, a gateway and the usage flush (the
// jobs role) run over it, then started again. Runs in both CI modes: the
// store under test is always this cluster.
//
// Promised (docs/reliability.md, "Faults"):
// - the API answers 503 PC_ERR_STORE_UNAVAILABLE with a reason while the
//   database is down (readiness too), and normal answers again once it is
//   back, without a restart;
// - the gateway keeps serving from its policy cache: tunnels keep relaying,
//   new connections are admitted (a customer who never connected before
//   too: passwords are checked against the cached hash), a reload (SIGHUP)
//   fails and the old policies stay;
// - usage counted while the database was down is kept and written once it
//   answers: nothing is lost (no process died).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { startUsageFlush, type UsageFlusher } from '../../src/jobs/usage-flush.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { createUsageRepo } from '../../src/store/repos/usage.ts';
import { type Api, startApi } from '../api/harness.ts';
import { curl, eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { ORIGIN_BODY, type Origin, startOrigin } from '../helpers/origin.ts';
import { type EchoServer, echo, openTunnel, startEcho } from '../limits/kick-tunnels.ts';
import { type PgCluster, startPgCluster } from './services.ts';
import { type Flow, startFlow } from './traffic.ts';

describe('faults: PostgreSQL restarted', { timeout: 150_000 }, () => {
  let cluster: PgCluster;
  let store: Store;
  let api: Api;
  let h: Harness;
  let flusher: UsageFlusher;
  let target: EchoServer;
  let origin: Origin;
  let port: number;

  before(async () => {
    cluster = await startPgCluster();
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('create database faults');
    await admin.end();
    const url = cluster.url.replace(/\/postgres$/, '/faults');
    store = await openStore({ databaseUrl: url, poolMax: 5 });
    h = await startHarness({}, { store: { ...store, url }, redis: true });
    api = await startApi({ store });
    flusher = startUsageFlush({ store, live: h.live, log: pino({ level: 'silent' }) });
    target = await startEcho();
    origin = await startOrigin();
    port = await h.addUpstream({ protocol: 'direct' });
  });
  after(async () => {
    await flusher?.stop().catch(() => {});
    await h?.close();
    await api?.close();
    await store?.close();
    await target?.close();
    await origin?.close();
    await cluster?.destroy();
  });

  test('API 503 then back; the gateway serves from its cache; usage written afterwards', async () => {
    const plan = await h.addPlan({ threads: 10 });
    const known = await h.addCustomer('pg-known', 'pw', plan);
    const fresh = await h.addCustomer('pg-fresh', 'pw2', plan);
    assert.equal((await api.req('GET', '/api/v1/plans')).status, 200);
    const other = await h.addCustomer('pg-other', 'pw3', plan);
    const flows: Array<{ id: number; flow: Flow }> = [];
    const wires = new Map<number, number>();
    const open = async (user: string, pass: string, id: number) => {
      const t = await openTunnel(port, user, pass, target.target);
      assert.equal(t.status, 200, `${user}: ${t.head}`);
      assert.equal(await echo(t, 'hello'), 'hello');
      flows.push({ id, flow: startFlow(t) });
    };
    try {
      await open('pg-known', 'pw', known);
      await new Promise((r) => setTimeout(r, 500));

      await cluster.stop();

      // The API: 503 with a reason, readiness too; liveness stays up.
      const down = await api.req('GET', '/api/v1/plans');
      assert.equal(down.status, 503, down.body);
      assert.equal(down.json.error.code, 'PC_ERR_STORE_UNAVAILABLE');
      assert.ok(down.json.error.details.reason, down.body);
      assert.equal((await api.req('GET', '/readyz', { token: null })).status, 503);
      assert.equal((await api.req('GET', '/healthz', { token: null })).status, 200);

      // The gateway: existing tunnels relay, new ones are admitted, a customer
      // never seen on this process authenticates against the cached hash.
      await open('pg-known', 'pw', known);
      await open('pg-fresh', 'pw2', fresh);
      const fwd = await curl(['-x', `http://pg-other:pw3@127.0.0.1:${port}`, `${origin.url}/`]);
      assert.equal(fwd.code, 200, fwd.stderr);
      assert.equal(fwd.body, ORIGIN_BODY);
      const wrong = await curl(['-x', `http://pg-other:nope@127.0.0.1:${port}`, `${origin.url}/`]);
      assert.equal(wrong.code, 407, 'a wrong password is still refused');
      await assert.rejects(h.gateway.reload(), 'a reload cannot read the store');
      await open('pg-fresh', 'pw2', fresh);
      await new Promise((r) => setTimeout(r, 1500)); // usage flushes fail meanwhile
      for (const { flow } of flows)
        assert.ok(!flow.closed && flow.intact, 'tunnels relay through the outage');

      await cluster.start();
      await eventually(async () => (await api.req('GET', '/api/v1/plans')).status === 200, 15_000);
      assert.equal((await api.req('GET', '/readyz', { token: null })).status, 200);
      const c = await api.req('POST', '/api/v1/customers', { body: { username: 'pg-after', plan: 'Basic' } });
      assert.equal(c.status, 201, c.body);
      await open('pg-known', 'pw', known);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      for (const { id, flow } of flows) {
        const w = await flow.stop();
        wires.set(id, (wires.get(id) ?? 0) + w.up + w.down);
      }
    }
    // Usage of the tunnels, counted before, during and after the outage, is
    // all in the store: the flush kept what it could not write.
    await eventually(() => h.gateway.connections().length === 0);
    const usage = createUsageRepo(store.db);
    const stored = async (id: number) => {
      const s = await usage.sum(id, 0, null);
      return s.bytesUp + s.bytesDown;
    };
    await eventually(async () => {
      await flusher.flushOnce().catch(() => 0);
      return (
        (await stored(known)) === wires.get(known) &&
        (await stored(fresh)) === wires.get(fresh) &&
        (await stored(other)) > 0 // the forwarded request made during the outage
      );
    }, 15_000).catch(async () => {
      assert.fail(
        `stored ${await stored(known)} / ${await stored(fresh)}, on the wire ${wires.get(known)} / ${wires.get(fresh)}`,
      );
    });
  });
});
