// The usage window a crash can lose: each flush of live state (the 1 s timer
// with Redis, the jobs role's drain in memory) takes the gateway's socket
// counters up to that very instant, so what a SIGKILL loses is at most one
// flush interval, not the socket report's second plus the flush's.
// (gateway-kill.test.ts measures it on a real `portcullis up`.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Harness, startHarness } from '../gateway/harness.ts';
import { type EchoServer, echo, openTunnel, startEcho } from '../limits/kick-tunnels.ts';

let h: Harness;
let target: EchoServer;

before(async () => {
  h = await startHarness({}, { redis: true });
  target = await startEcho();
});
after(async () => {
  await h.close();
  await target.close();
});

test('a flush carries every byte of open connections up to that instant', async () => {
  const port = await h.addUpstream({ protocol: 'direct' });
  const plan = await h.addPlan({ threads: 2 });
  const id = await h.addCustomer('win', 'pw', plan);
  await h.live.drainUsage();
  const t = await openTunnel(port, 'win', 'pw', target.target);
  assert.equal(t.status, 200, t.head);
  let up = 0;
  let down = 0;
  try {
    for (let round = 1; round <= 5; round++) {
      const text = String(round).repeat(40_000);
      assert.equal(await echo(t, text), text);
      // The echo is back: the gateway has read and written every byte of it.
      await h.live.flush();
      for (const d of await h.live.drainUsage()) {
        if (d.customerId !== id) continue;
        up += d.bytesUp;
        down += d.bytesDown;
      }
      assert.equal(up, t.socket.bytesWritten, `round ${round}: bytes up so far`);
      assert.equal(down, t.socket.bytesRead, `round ${round}: bytes down so far`);
    }
  } finally {
    t.socket.destroy();
  }
});
