// Bandwidth cap of 1 MB/s per customer (up + down): within ±5% over a
// 10 s window, with 1 socket and with 20 sockets sharing the cap — the
// accuracy windows issue 4 asks for, the only timed assertions of the suite —
// and the optional per-connection cap over a shorter window.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, type Harness, startHarness } from '../gateway/harness.ts';
import { type Origin, startOrigin } from '../helpers/origin.ts';
import { measureRate } from './bandwidth.ts';

const CAP = 1_000_000;

describe('limits: bandwidth 1 MB/s per customer', () => {
  let h: Harness;
  let origin: Origin;
  let port: number;

  before(async () => {
    h = await startHarness({}, { redis: true });
    origin = await startOrigin();
    port = await h.addUpstream({ protocol: 'direct' });
    const plan = await h.addPlan({ threads: 50, bandwidth: CAP });
    await h.addCustomer('one', 'pw', plan);
    await h.addCustomer('twenty', 'pw', plan);
    const perConn = await h.addPlan({ threads: 50, connBandwidth: CAP / 4 });
    await h.addCustomer('perconn', 'pw', perConn);
  });
  after(async () => {
    await h.close();
    await origin.close();
  });

  for (const [sockets, user, via] of [
    [1, 'one', 'forward'],
    [20, 'twenty', 'connect'],
  ] as const) {
    test(`${sockets} socket(s) (${via}): ${CAP / 1e6} MB/s ±5%`, async (t) => {
      const run = await measureRate(port, origin, user, { sockets, via });
      const ratio = run.rate / CAP;
      t.diagnostic(`${(run.rate / 1e6).toFixed(3)} MB/s, ${(ratio * 100).toFixed(1)}% of the cap`);
      assert.ok(
        Math.abs(ratio - 1) <= 0.05,
        `${(run.rate / 1e6).toFixed(3)} MB/s over ${run.windowMs.toFixed(0)} ms (${(ratio * 100).toFixed(1)}% of the cap)`,
      );
      await eventually(() => h.gateway.connections().length === 0);
    });
  }

  test('per-connection cap: 2 sockets at a quarter each get half the cap (±5%)', async (t) => {
    const run = await measureRate(port, origin, 'perconn', { sockets: 2, via: 'connect', windowMs: 5000 });
    const ratio = run.rate / (CAP / 2);
    t.diagnostic(`${(run.rate / 1e6).toFixed(3)} MB/s, ${(ratio * 100).toFixed(1)}% of 2 x connBandwidth`);
    assert.ok(Math.abs(ratio - 1) <= 0.05, `${(run.rate / 1e6).toFixed(3)} MB/s`);
    await eventually(() => h.gateway.connections().length === 0);
  });
});
