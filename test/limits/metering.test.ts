// Bytes metered equal the bytes on the wire, as the client sees them: every
// byte the client sent (bytesUp) and received (bytesDown) on its connection
// to the gateway, protocol overhead included — request and response heads,
// the CONNECT exchange, the SOCKS5 handshake, refusals' bodies — and nothing
// of the gateway's own leg to the upstream.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { type Origin, startOrigin } from '../helpers/origin.ts';
import {
  basic,
  close,
  connectTunnel,
  openWire,
  responsesIn,
  send,
  socks5Connect,
  until,
  type Wire,
} from './clients.ts';

const N = 3_000_000;

describe('limits: metering equals the bytes on the wire', () => {
  let h: Harness;
  let origin: Origin;
  let port: number;

  before(async () => {
    h = await startHarness({}, { redis: true });
    origin = await startOrigin();
    port = await h.addUpstream({ protocol: 'direct' });
  });
  after(async () => {
    await h.close();
    await origin.close();
  });

  async function metered(id: number, w: Wire): Promise<void> {
    await close(w);
    await eventually(() => h.gateway.connections().length === 0);
    await h.live.flush();
    const mine = (await h.live.drainUsage()).filter((d) => d.customerId === id);
    const up = mine.reduce((s, d) => s + d.bytesUp, 0);
    const down = mine.reduce((s, d) => s + d.bytesDown, 0);
    assert.equal(up, w.sent, 'bytes up = bytes the client sent');
    assert.equal(down, w.received, 'bytes down = bytes the client received');
    assert.ok(w.received > N, 'the payload and its overhead');
  }

  test('HTTP forward (two requests on one keep-alive connection)', async () => {
    const plan = await h.addPlan({ threads: 5 });
    const id = await h.addCustomer('mf', 'pw', plan);
    await h.live.drainUsage();
    const w = await openWire(port);
    const req = `GET ${origin.url}/bytes/${N} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${basic('mf', 'pw')}\r\n\r\n`;
    send(w, req);
    await until(w, (s) => responsesIn(s) === 1, 10_000);
    send(w, req);
    await until(w, (s) => responsesIn(s) === 2, 10_000);
    await metered(id, w);
  });

  test('HTTP CONNECT tunnel', async () => {
    const plan = await h.addPlan({ threads: 5 });
    const id = await h.addCustomer('mc', 'pw', plan);
    await h.live.drainUsage();
    const t = await connectTunnel(port, 'mc', 'pw', `127.0.0.1:${origin.port}`);
    assert.equal(t.status, 200);
    send(t.w, `GET /bytes/${N} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await until(t.w, (s) => responsesIn(s.slice(s.indexOf('\r\n\r\n') + 4)) === 1, 10_000);
    await metered(id, t.w);
  });

  test('SOCKS5 tunnel', async () => {
    const plan = await h.addPlan({ threads: 5 });
    const id = await h.addCustomer('ms', 'pw', plan);
    await h.live.drainUsage();
    const s = await socks5Connect(port, 'ms', 'pw', origin.port);
    assert.equal(s.reply, 0);
    send(s.w, `GET /bytes/${N} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await until(s.w, (x) => responsesIn(x.slice(14)) === 1, 10_000);
    await metered(id, s.w);
  });
});
