// Upstream black-holed. Two loopback ways an upstream stops answering:
// - a port that drops SYNs (a listening socket whose accept queue is full and
//   never drained): the TCP connect itself hangs;
// - a server that accepts TCP but never sends a byte: the handshake hangs;
// - a SOCKS5 upstream that answers each handshake step, each a little under
//   the connect timeout: the handshake as a whole has that one deadline.
// Promised: the client gets 504 upstream_timeout (SOCKS5 reply 6, TTL
// expired) after PORTCULLIS_CONNECT_TIMEOUT, never a hang; the health checker
// marks the upstream down (in memory and in the store); a port whose upstream
// is down answers 502 upstream_down at once instead of waiting again; with
// PORTCULLIS_FAILOVER on, its connections go through a healthy upstream.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from '../../src/store/orm.ts';
import { upstreams } from '../../src/store/schema.ts';
import { expectQuiet } from '../clients/sockets.ts';
import { curl, eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { ORIGIN_BODY, type Origin, startOrigin } from '../helpers/origin.ts';
import { type Peer, startSquid } from '../helpers/peers.ts';
import {
  basic,
  connectTunnel,
  openWire,
  reason,
  send,
  socks5Connect,
  status,
  until,
} from '../limits/clients.ts';
import { type Hole, startBlackHole, startSilent, startTrickle } from './services.ts';

const TIMEOUTS = { PORTCULLIS_CONNECT_TIMEOUT: '1s', PORTCULLIS_IDLE_TIMEOUT: '2s' };

async function healthOf(h: Harness, port: number): Promise<{ health: string; lastError: string | null }> {
  const [row] = await h.store.db
    .select({ health: upstreams.health, lastError: upstreams.lastError })
    .from(upstreams)
    .where(eq(upstreams.boundPort, port));
  return row;
}

describe('faults: upstream black-holed', () => {
  let h: Harness;
  let origin: Origin;
  let hole: Hole;
  let silent: Hole;
  let ids: number[];
  const ports: Record<string, number> = {};

  before(async () => {
    h = await startHarness(TIMEOUTS);
    origin = await startOrigin();
    hole = await startBlackHole();
    silent = await startSilent();
    const plan = await h.addPlan({ threads: 5 });
    ids = [await h.addCustomer('bh', 'pw', plan)];
    for (const [name, port] of [
      ['hole', hole.port],
      ['silent', silent.port],
    ] as const) {
      ports[`${name}-http`] = await h.addUpstream({ protocol: 'http', host: '127.0.0.1', port });
      ports[`${name}-socks5`] = await h.addUpstream({
        protocol: 'socks5',
        host: '127.0.0.1',
        port,
        username: 'x',
        password: 'y',
      });
    }
  });
  after(async () => {
    await h.close();
    await origin.close();
    await hole.close();
    await silent.close();
  });

  const quiet = () =>
    expectQuiet(h, ids, {
      served: Object.values(ports),
      dialled: [...Object.values(ports), hole.port, silent.port],
    });

  for (const name of ['hole', 'silent'] as const) {
    test(`${name === 'hole' ? 'SYNs dropped' : 'accepts, never answers'}: 504 upstream_timeout on every client protocol`, async () => {
      const c = await connectTunnel(ports[`${name}-http`], 'bh', 'pw', `127.0.0.1:${origin.port}`);
      c.w.socket.destroy();
      assert.equal(c.status, 504, c.head);
      assert.equal(reason(c.head), 'upstream_timeout');

      const f = await openWire(ports[`${name}-http`]);
      send(f, `GET ${origin.url}/ HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${basic('bh', 'pw')}\r\n\r\n`);
      const head = await until(f, (s) => s.includes('\r\n\r\n'), 10_000);
      f.socket.destroy();
      assert.equal(status(head), 504, head);
      assert.equal(reason(head), 'upstream_timeout');

      for (const port of [ports[`${name}-http`], ports[`${name}-socks5`]]) {
        const s = await socks5Connect(port, 'bh', 'pw', origin.port);
        s.w.socket.destroy();
        assert.equal(s.reply, 6, `SOCKS5 reply on port ${port}`);
      }
      const t = await connectTunnel(ports[`${name}-socks5`], 'bh', 'pw', `127.0.0.1:${origin.port}`);
      t.w.socket.destroy();
      assert.equal(t.status, 504, t.head);
      await quiet();
    });
  }

  test('a SOCKS5 upstream answering each step in 600 ms misses the 1 s deadline of the whole handshake', async () => {
    // Each step alone is within PORTCULLIS_CONNECT_TIMEOUT (1 s); all three
    // (method, credentials, CONNECT) are not.
    const trickle = await startTrickle(600);
    try {
      const port = await h.addUpstream({
        protocol: 'socks5',
        host: '127.0.0.1',
        port: trickle.port,
        username: 'x',
        password: 'y',
      });
      const s = await socks5Connect(port, 'bh', 'pw', origin.port);
      s.w.socket.destroy();
      assert.equal(s.reply, 6, 'SOCKS5 reply 6: upstream_timeout');
      assert.ok(
        trickle.replied < 3,
        `the upstream answered ${trickle.replied} of 3 steps before the deadline`,
      );
      const t = await connectTunnel(port, 'bh', 'pw', `127.0.0.1:${origin.port}`);
      t.w.socket.destroy();
      assert.equal(t.status, 504, t.head);
      assert.equal(reason(t.head), 'upstream_timeout');
    } finally {
      await trickle.close();
    }
  });

  test('the health checker marks them down; their ports then answer 502 upstream_down at once', async () => {
    await h.gateway.checkHealth();
    for (const [name, port] of Object.entries(ports)) {
      const row = await healthOf(h, port);
      assert.equal(row.health, 'down', `${name} in the store`);
      assert.match(row.lastError ?? '', /time/i, `${name}: ${row.lastError}`);
      const c = await connectTunnel(port, 'bh', 'pw', `127.0.0.1:${origin.port}`);
      c.w.socket.destroy();
      assert.equal(c.status, 502, `${name}: ${c.head}`);
      assert.equal(reason(c.head), 'upstream_down');
    }
    await quiet();
  });
});

describe('faults: black-holed upstream with failover on', () => {
  let h: Harness;
  let origin: Origin;
  let hole: Hole;
  let squid: Peer;

  before(async () => {
    // The periodic checker (every second) finds the hole by itself.
    h = await startHarness({ ...TIMEOUTS, PORTCULLIS_FAILOVER: 'true', PORTCULLIS_HEALTH_INTERVAL: '1s' });
    origin = await startOrigin();
    hole = await startBlackHole();
    squid = await startSquid();
  });
  after(async () => {
    await h.close();
    await origin.close();
    await hole.close();
    await squid.stop();
  });

  test('connections to the black-holed port go through the healthy upstream once it is marked down', async () => {
    const plan = await h.addPlan({ threads: 5 });
    const id = await h.addCustomer('fo', 'pw', plan);
    const healthy = await h.addUpstream({ protocol: 'http', host: '127.0.0.1', port: squid.port });
    const holed = await h.addUpstream({ protocol: 'http', host: '127.0.0.1', port: hole.port });
    await eventually(async () => (await healthOf(h, holed)).health === 'down', 10_000);
    await eventually(async () => (await healthOf(h, healthy)).health === 'up', 10_000);

    const a = await curl(['-x', `http://fo:pw@127.0.0.1:${holed}`, `${origin.url}/`]);
    assert.equal(a.code, 200, a.stderr);
    assert.equal(a.body, ORIGIN_BODY);
    const b = await curl(['-p', '-x', `http://fo:pw@127.0.0.1:${holed}`, `${origin.url}/bytes/100000`]);
    assert.equal(b.code, 200, b.stderr);
    assert.equal(b.body.length, 100000);
    const c = await curl(['-x', `socks5h://fo:pw@127.0.0.1:${holed}`, `http://localhost:${origin.port}/`]);
    assert.equal(c.code, 200, c.stderr);
    assert.equal(c.body, ORIGIN_BODY);
    const live = h.gateway.connections();
    assert.equal(live.length, 0, JSON.stringify(live));
    // (The checker's own probe of the hole may be in flight: not a leak.)
    await expectQuiet(h, [id], { served: [holed, healthy], dialled: [holed, healthy] });
  });
});
