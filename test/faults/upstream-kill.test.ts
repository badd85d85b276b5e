// Upstream killed mid-transfer: squid (HTTP upstream) and microsocks (SOCKS5
// upstream) are real child processes, SIGKILLed while a client downloads
// through them. Promised: the client's connection closes (no hang; a tunnel
// ends after the bytes already relayed), the customer's thread count goes
// back to 0, the gateway holds no socket, the bytes counted so far are metered
// (up exactly; down exactly for tunnels, and for a forwarded response cut
// mid-body at least what the client received and at most what the gateway had
// queued for it), and the next connection to the dead upstream gets a clean
// 502 upstream_down.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectQuiet } from '../clients/sockets.ts';
import { type Harness, startHarness } from '../gateway/harness.ts';
import { type Origin, startOrigin } from '../helpers/origin.ts';
import { type Peer, startMicrosocks, startSquid } from '../helpers/peers.ts';
import {
  basic,
  connectTunnel,
  openWire,
  reason,
  send,
  socks5Connect,
  status,
  until,
  type Wire,
} from '../limits/clients.ts';

/** more than the transfer can move before the kill lands */
const TOTAL = 512 * 1024 * 1024;
/** the client has this much before the upstream is killed */
const BEFORE_KILL = 2 * 1024 * 1024;
/** a socket that does not close within this is a hang */
const CLOSE_MS = 10_000;

type Client = 'connect' | 'forward' | 'socks5';

describe('faults: upstream killed mid-transfer', () => {
  let h: Harness;
  let origin: Origin;
  let plan: number;
  let seq = 0;

  before(async () => {
    h = await startHarness({}, { redis: true });
    origin = await startOrigin();
    plan = await h.addPlan({ threads: 5 });
  });
  after(async () => {
    await h.close();
    await origin.close();
  });

  /** Stops keeping received bytes (only counted): the download is large. */
  function countOnly(w: Wire): Wire {
    w.socket.on('data', () => {
      w.data.length = 0;
    });
    return w;
  }

  async function open(client: Client, port: number, user: string): Promise<Wire> {
    const path = `/bytes/${TOTAL}`;
    if (client === 'connect') {
      const t = await connectTunnel(port, user, 'pw', `127.0.0.1:${origin.port}`);
      assert.equal(t.status, 200, t.head);
      send(t.w, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      return countOnly(t.w);
    }
    if (client === 'socks5') {
      const s = await socks5Connect(port, user, 'pw', origin.port);
      assert.equal(s.reply, 0);
      send(s.w, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      return countOnly(s.w);
    }
    const w = await openWire(port, false);
    send(
      w,
      `GET ${origin.url}${path} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${basic(user, 'pw')}\r\n\r\n`,
    );
    return w;
  }

  async function killMidTransfer(peer: Peer, port: number, client: Client): Promise<string> {
    const user = `u${++seq}`;
    const id = await h.addCustomer(user, 'pw', plan);
    await h.live.flush();
    await h.live.drainUsage();
    const w = await open(client, port, user);
    let how = 'open';
    w.socket.once('end', () => {
      how = 'end (FIN)';
    });
    w.socket.once('error', (e: NodeJS.ErrnoException) => {
      how = `error ${e.code}`;
    });
    try {
      for (let i = 0; i < 2000 && w.received < BEFORE_KILL; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(w.received >= BEFORE_KILL, `only ${w.received} bytes arrived before the kill`);
      assert.equal(await h.live.threads(id), 1);

      process.kill(peer.pid, 'SIGKILL');
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        w.closed.then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), CLOSE_MS);
        }),
      ]);
      clearTimeout(timer);
      assert.ok(closed, `the client's connection is still open ${CLOSE_MS} ms after the kill`);
      assert.ok(w.received < TOTAL, 'the transfer was cut short');
    } finally {
      w.socket.destroy();
      await peer.stop();
    }
    await expectQuiet(h, [id], { served: [port], dialled: [port, peer.port] });

    // Metered: every byte the client sent, and at least every byte it received.
    await h.live.flush();
    const mine = (await h.live.drainUsage()).filter((d) => d.customerId === id);
    const up = mine.reduce((s, d) => s + d.bytesUp, 0);
    const down = mine.reduce((s, d) => s + d.bytesDown, 0);
    assert.equal(up, w.sent, 'bytes up = bytes the client sent');
    if (client === 'forward') {
      // A response cut mid-body is aborted (the client socket destroyed): what
      // was queued for the client but dropped with the socket is metered too,
      // bounded by what one relay holds (its write buffer plus one read).
      assert.ok(down >= w.received, `metered down ${down} >= received ${w.received}`);
      assert.ok(down - w.received <= 1024 * 1024, `metered down ${down} - received ${w.received}`);
    } else {
      // A tunnel whose upstream went away ends after its pending writes: exact.
      assert.equal(down, w.received, 'bytes down = bytes the client received');
    }

    // The dead upstream: a clean, prompt refusal.
    const again = await openWire(port);
    send(
      again,
      `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${basic(user, 'pw')}\r\n\r\n`,
    );
    const head = await until(again, (s) => s.includes('\r\n\r\n'), CLOSE_MS);
    again.socket.destroy();
    assert.equal(status(head), 502, head);
    assert.equal(reason(head), 'upstream_down');
    await expectQuiet(h, [id], { served: [port], dialled: [port, peer.port] });
    return `closed by ${how} after ${w.received} bytes; metered down ${down} (+${down - w.received})`;
  }

  for (const client of ['connect', 'forward'] as const) {
    test(`squid as HTTP upstream, ${client} client`, async (t) => {
      const squid = await startSquid();
      const port = await h.addUpstream({ protocol: 'http', host: '127.0.0.1', port: squid.port });
      t.diagnostic(await killMidTransfer(squid, port, client));
    });
  }

  for (const client of ['socks5', 'forward'] as const) {
    test(`microsocks as SOCKS5 upstream, ${client} client`, async (t) => {
      const socks = await startMicrosocks({ auth: { user: 'ms', pass: 'mspw' } });
      const port = await h.addUpstream({
        protocol: 'socks5',
        host: '127.0.0.1',
        port: socks.port,
        username: 'ms',
        password: 'mspw',
      });
      t.diagnostic(await killMidTransfer(socks, port, client));
    });
  }
});
