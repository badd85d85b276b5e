// Issue 3 "Bad input": each case answers as the catalog says (or closes),
// and none crashes the gateway or leaks a socket, a registry entry or a thread.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ORIGIN_BODY, type Origin, startOrigin } from '../helpers/origin.ts';
import { freePort } from '../helpers/peers.ts';
import { curl, eventually, type Harness, rawExchange, startHarness } from './harness.ts';

describe('gateway: bad input', () => {
  let h: Harness;
  let origin: Origin;
  let port: number;
  let customerId: number;
  const auth = `Proxy-Authorization: Basic ${Buffer.from('gina:pw').toString('base64')}\r\n`;

  before(async () => {
    h = await startHarness({ PORTCULLIS_HEADER_TIMEOUT: '1s' });
    origin = await startOrigin();
    const plan = await h.addPlan();
    customerId = await h.addCustomer('gina', 'pw', plan);
    port = await h.addUpstream({ protocol: 'direct' });
  });
  after(async () => {
    await h.close();
    await origin.close();
  });

  const noLeaks = () =>
    eventually(
      async () =>
        h.gateway.connections().length === 0 &&
        h.gateway.openSockets === 0 &&
        (await h.live.threads(customerId)) === 0,
    );

  test('junk first bytes: 400 bad_request', async () => {
    const r = (await rawExchange(port, ['\x00\x01\x02garbage\r\n\r\n'])).toString('latin1');
    assert.match(r, /^HTTP\/1\.1 400 /);
    assert.match(r, /X-Portcullis-Reason: bad_request/);
    const r2 = (await rawExchange(port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n'])).toString('latin1');
    assert.match(r2, /^HTTP\/1\.1 400 /, 'origin-form is not a proxy request');
    const r3 = (
      await rawExchange(port, [`GET http://x/ HTTP/1.1\r\nBad Header: 1\r\n${auth}\r\n`])
    ).toString();
    assert.match(r3, /^HTTP\/1\.1 400 /);
    await noLeaks();
  });

  test('headers over 16 KiB: 431', async () => {
    const big = `GET ${origin.url}/ HTTP/1.1\r\n${auth}X-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`;
    const r = (await rawExchange(port, [big])).toString('latin1');
    assert.match(r, /^HTTP\/1\.1 431 /);
    await noLeaks();
  });

  test('slow headers: 408 after the header timeout', async () => {
    const r = (await rawExchange(port, [`GET ${origin.url}/ HTTP/1.1\r\nHost: x\r\n`], 5000)).toString(
      'latin1',
    );
    assert.match(r, /^HTTP\/1\.1 408 /);
    await noLeaks();
  });

  test('idle after a 407: the connection closes quietly at the header timeout (no stray 408)', async () => {
    const r = (await rawExchange(port, [`GET ${origin.url}/ HTTP/1.1\r\nHost: x\r\n\r\n`], 5000)).toString(
      'latin1',
    );
    assert.match(r, /^HTTP\/1\.1 407 /);
    assert.doesNotMatch(r, / 408 /);
    await noLeaks();
  });

  test('a dial slower than the header timeout is not cut short with 408 (the connection is admitted by then)', async () => {
    // A SOCKS5 upstream that takes 1.5 s (header timeout: 1 s) to answer its
    // greeting, then connects to the target as asked.
    const slow = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => {
        setTimeout(() => {
          s.write(Buffer.from([5, 0]));
          s.once('data', (req: Buffer) => {
            const target = req.readUInt16BE(req.length - 2);
            const t = net.connect(target, '127.0.0.1', () => {
              s.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
              s.pipe(t).pipe(s);
            });
            t.on('error', () => s.destroy());
          });
        }, 1500);
      });
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    try {
      const slowPort = await h.addUpstream({
        protocol: 'socks5',
        host: '127.0.0.1',
        port: (slow.address() as net.AddressInfo).port,
      });
      const r = await curl(['-i', '-x', `http://gina:pw@127.0.0.1:${slowPort}`, `${origin.url}/`]);
      assert.equal(r.code, 200, r.body);
      assert.match(r.body, new RegExp(ORIGIN_BODY));
      await noLeaks();
    } finally {
      slow.close();
    }
  });

  test('an admission slower than the header timeout is not cut short with 408', async () => {
    // The request head is complete: the time the gateway takes to admit it
    // (here a live-state call held for 1.5 s; header timeout: 1 s) is not the client's.
    const plan = await h.addPlan({ name: 'slow-admission', rps: 100 });
    await h.addCustomer('sam', 'pw', plan);
    const live = h.live as { takeTokens: (...a: never[]) => Promise<unknown> };
    const take = live.takeTokens;
    live.takeTokens = async (...a) => {
      await new Promise((r) => setTimeout(r, 1500));
      return take.apply(h.live, a);
    };
    try {
      const r = await curl(['-i', '-x', `http://sam:pw@127.0.0.1:${port}`, `${origin.url}/`]);
      assert.equal(r.code, 200, r.body);
    } finally {
      live.takeTokens = take;
    }
    await noLeaks();
  });

  test('request smuggling shapes are refused (Content-Length with chunked)', async () => {
    const r = (
      await rawExchange(port, [
        `POST ${origin.url}/echo HTTP/1.1\r\n${auth}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      ])
    ).toString('latin1');
    assert.match(r, /^HTTP\/1\.1 400 /);
    await noLeaks();
  });

  test('unresolvable and refused targets: 502 with the reason', async () => {
    const a = await curl(['-i', '-x', `http://gina:pw@127.0.0.1:${port}`, 'http://nonexistent.invalid/']);
    assert.equal(a.code, 502);
    assert.match(a.body, /target_unresolved/);
    const closed = await freePort();
    const b = await curl(['-i', '-x', `http://gina:pw@127.0.0.1:${port}`, `http://127.0.0.1:${closed}/`]);
    assert.equal(b.code, 502);
    assert.match(b.body, /target_refused/);
    const c = await curl(['-p', '-x', `http://gina:pw@127.0.0.1:${port}`, `http://127.0.0.1:${closed}/`]);
    assert.equal(c.connectCode, 502);
    await noLeaks();
  });

  test('truncated handshakes and clients vanishing mid-handshake', async () => {
    const partials: (Buffer | string)[] = [
      Buffer.from([5]),
      Buffer.from([5, 2, 0]),
      Buffer.from([5, 1, 2, 1, 4, 0x67]),
      Buffer.from([4, 1, 0]),
      `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\n${auth}`,
      `GET ${origin.url}/ HTTP/1.1\r\nHo`,
    ];
    for (const p of partials) {
      await new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.write(p);
          setTimeout(() => s.destroy(), 50);
        });
        s.on('error', () => {});
        s.on('close', () => resolve());
      });
    }
    // A client leaving right after its CONNECT, while we dial.
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\n${auth}\r\n`);
        s.destroy();
        resolve();
      });
      s.on('error', () => {});
    });
    await noLeaks();
    // ...and the gateway still serves.
    const r = await curl(['-x', `http://gina:pw@127.0.0.1:${port}`, `${origin.url}/`]);
    assert.equal(r.body, ORIGIN_BODY);
    await noLeaks();
  });

  test('a client vanishing mid-download releases everything', async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(`GET ${origin.url}/bytes/50000000 HTTP/1.1\r\n${auth}\r\n`);
      });
      s.once('data', () => {
        s.destroy();
        resolve();
      });
      s.on('error', () => {});
    });
    await noLeaks();
  });

  test('stop() with a live tunnel: closes it, releases the thread, keeps the usage', async () => {
    const g = await startHarness();
    try {
      const plan = await g.addPlan();
      const id = await g.addCustomer('hank', 'pw', plan);
      const p = await g.addUpstream({ protocol: 'direct' });
      const pending = curl(['-p', '-x', `http://hank:pw@127.0.0.1:${p}`, `${origin.url}/slow?ms=5000`]);
      await eventually(() => g.gateway.connections().length === 1);
      await g.gateway.stop({ drainTimeoutSec: 0 });
      assert.equal(g.gateway.connections().length, 0);
      assert.equal(await g.live.threads(id), 0);
      const usage = (await g.live.drainUsage()).filter((d) => d.customerId === id);
      assert.equal(
        usage.reduce((a, d) => a + d.connections, 0),
        1,
      );
      assert.ok(usage.reduce((a, d) => a + d.bytesUp, 0) > 0);
      const r = await pending;
      assert.notEqual(r.code, 200);
    } finally {
      await g.live.close();
      await g.store.close();
    }
  });
});
