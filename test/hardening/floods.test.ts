// Issue 7 item 2, floods: slow headers (slowloris), idle connections, a
// connection flood from one IP, and oversized requests. In each case the
// attacker's connections are answered or closed by the gateway itself, within
// its own deadlines, nothing is left open afterwards, and a well-behaved
// customer on another account keeps getting answers all the while (every one
// of its requests is checked; no timing is asserted).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eventually, type Harness, rawExchange, startHarness } from '../gateway/harness.ts';
import { ORIGIN_BODY, type Origin, startOrigin } from '../helpers/origin.ts';

const basic = (u: string, p: string) =>
  `Proxy-Authorization: Basic ${Buffer.from(`${u}:${p}`).toString('base64')}\r\n`;

describe('floods: the gateway keeps serving other customers', () => {
  let h: Harness;
  let origin: Origin;
  let port: number;
  let goodId: number;
  let floodId: number;

  before(async () => {
    h = await startHarness(
      { PORTCULLIS_HEADER_TIMEOUT: '1s', PORTCULLIS_IDLE_TIMEOUT: '30s' },
      { redis: true },
    );
    origin = await startOrigin();
    const plan = await h.addPlan({ threads: 20 });
    goodId = await h.addCustomer('gwen', 'good-pw', plan);
    // The flooding account: at most 5 new connections/s from one IP.
    const limited = await h.addPlan({ threads: 500, ipRps: 5 });
    floodId = await h.addCustomer('fred', 'flood-pw', limited);
    port = await h.addUpstream({ protocol: 'direct' });
  });
  after(async () => {
    await h.close();
    await origin.close();
  });

  /**
   * The well-behaved customer: sequential requests (HTTP forward, each on a
   * new connection) until `stop` resolves, at least `min`; every answer must
   * be the origin's. Returns how many it made.
   */
  async function wellBehaved(stop: Promise<unknown>, min = 5): Promise<number> {
    let stopped = false;
    void stop.then(() => {
      stopped = true;
    });
    let n = 0;
    while (!stopped || n < min) {
      const r = (
        await rawExchange(
          port,
          [`GET ${origin.url}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${basic('gwen', 'good-pw')}\r\n`],
          10_000,
        )
      ).toString('latin1');
      assert.match(r, /^HTTP\/1\.1 200 /, `request ${n + 1} of the well-behaved customer: ${r.slice(0, 80)}`);
      assert.ok(r.endsWith(ORIGIN_BODY));
      n++;
    }
    return n;
  }

  /** Nothing of the flood is left: no socket, no live connection, no thread. */
  const quiet = () =>
    eventually(
      async () =>
        h.gateway.openSockets === 0 &&
        h.gateway.connections().length === 0 &&
        (await h.live.threads(goodId)) === 0 &&
        (await h.live.threads(floodId)) === 0,
      10_000,
    );

  test('slow headers: a head trickled byte by byte is cut off at the header timeout (408), not kept alive by each byte', async () => {
    // 40 clients each send one byte of a long head every 100 ms: 30 s to finish,
    // far past the 1 s header timeout. Each must get 408 while still sending.
    const head = `GET ${origin.url}/ HTTP/1.1\r\nHost: x\r\n${basic('fred', 'flood-pw')}X-Pad: ${'p'.repeat(200)}\r\n\r\n`;
    const slow = Array.from(
      { length: 40 },
      () =>
        new Promise<{ answer: string; sent: number }>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          let sent = 0;
          let answer = '';
          const tick = setInterval(() => {
            if (sent < head.length && !s.destroyed) s.write(head[sent++]);
          }, 100);
          s.on('data', (d) => {
            answer += d.toString('latin1');
          });
          s.on('error', () => {});
          s.on('close', () => {
            clearInterval(tick);
            clearTimeout(cap);
            resolve({ answer, sent });
          });
          const cap = setTimeout(() => s.destroy(), 20_000);
        }),
    );
    const all = Promise.all(slow);
    const served = await wellBehaved(all);
    for (const { answer, sent } of await all) {
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.match(answer, /X-Portcullis-Reason: request_timeout/);
      assert.ok(sent < head.length, `cut off while still sending (${sent} of ${head.length} bytes)`);
    }
    assert.ok(served >= 5);
    await quiet();
  });

  test('idle connections: 300 sockets that never speak are closed by the gateway', async () => {
    // From an address of their own: past the 256 handshakes per address
    // (test/hardening/handshakes.test.ts) the rest are closed at once, and the
    // well-behaved customer's address is not the flood's.
    const idle = Array.from(
      { length: 300 },
      () =>
        new Promise<boolean>((resolve) => {
          const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3' });
          s.on('error', () => {});
          // True when the gateway closed it (we never write, never end).
          const cap = setTimeout(() => {
            s.destroy();
            resolve(false);
          }, 20_000);
          s.on('close', () => {
            clearTimeout(cap);
            resolve(true);
          });
        }),
    );
    const all = Promise.all(idle);
    await wellBehaved(all);
    assert.deepEqual(new Set(await all), new Set([true]), 'every idle socket was closed by the gateway');
    await quiet();
  });

  test('connection flood from one IP: the per-IP new-connection rate refuses it (429 ip_limited)', async () => {
    // 400 connections as fast as they can be made from 127.0.0.2, each asking for the origin.
    const answers: string[] = [];
    const flood = (async () => {
      for (let wave = 0; wave < 8; wave++) {
        const batch = Array.from({ length: 50 }, async () => {
          const r = await new Promise<string>((resolve) => {
            const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
            const parts: Buffer[] = [];
            s.on('data', (d) => parts.push(d));
            s.on('error', () => {});
            s.on('close', () => {
              clearTimeout(cap);
              resolve(Buffer.concat(parts).toString('latin1'));
            });
            const cap = setTimeout(() => s.destroy(), 10_000);
            s.on('connect', () =>
              s.write(
                `GET ${origin.url}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${basic('fred', 'flood-pw')}\r\n`,
              ),
            );
          });
          answers.push(r);
        });
        await Promise.all(batch);
      }
    })();
    await wellBehaved(flood);
    await flood;
    const limited = answers.filter((a) => /^HTTP\/1\.1 429 [\s\S]*X-Portcullis-Reason: ip_limited/.test(a));
    const ok = answers.filter((a) => a.startsWith('HTTP/1.1 200 '));
    assert.equal(answers.length, 400);
    assert.ok(limited.length > 0, 'the flood met the per-IP rate');
    assert.equal(
      limited.length + ok.length,
      400,
      'every flood connection was answered: 200 or 429 ip_limited',
    );
    await quiet();
  });

  test('unauthenticated flood of junk: every connection answered or closed, nothing held', async () => {
    const junk = [
      'GARBAGE\r\n\r\n',
      `GET ${origin.url}/ HTTP/1.1\r\nHost: x\r\n\r\n`, // no credentials: 407
      `GET ${origin.url}/ HTTP/1.1\r\n${basic('fred', 'wrong')}\r\n`, // wrong password: 407
      Buffer.from([5, 1, 0]), // SOCKS5 without acceptable method
      Buffer.from([4, 1, 0, 80, 127, 0, 0, 1, 0]), // SOCKS4 without user id
      Buffer.from([0xff, 0xfe, 0, 1, 2, 3]),
    ];
    // Spread over three addresses, each under the 256 handshakes per address,
    // so every connection reaches the protocol code.
    const flood = Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        rawExchange(port, [junk[i % junk.length]], 10_000, `127.0.0.${5 + (i % 3)}`),
      ),
    );
    await wellBehaved(flood);
    const answers = await flood;
    for (const [i, a] of answers.entries()) {
      const text = a.toString('latin1');
      if (i % junk.length <= 2) assert.match(text, /^HTTP\/1\.1 (400|407) /, `junk ${i % junk.length}`);
    }
    await quiet();
  });

  test('oversized requests: 431 for heads over 16 KiB, and a client that keeps sending is dropped', async () => {
    // 20 clients send 1 MiB of header each; 5 more keep streaming after the 431 with
    // their write side open (allowHalfOpen), which must not keep the socket alive.
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    /**
     * Sends `head`, then (with `stream`) writes a chunk every 20 ms, from the
     * start or from the first answer, with its write side open (allowHalfOpen);
     * without `stream`, 1 MiB at once. Answers what it read and whether the
     * gateway closed the connection within 20 s.
     */
    const client = (head: string, stream: 'no' | 'at-once' | 'after-answer') =>
      new Promise<{ answer: string; closed: boolean }>((resolve) => {
        const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: stream !== 'no' });
        let answer = '';
        let pump: NodeJS.Timeout | undefined;
        const startPump = () => {
          pump ??= setInterval(() => {
            if (!s.destroyed) s.write(chunk);
          }, 20);
        };
        s.on('data', (d) => {
          answer += d.toString('latin1');
          if (stream === 'after-answer') startPump();
        });
        s.on('error', () => {});
        s.on('connect', () => {
          s.write(head);
          if (stream === 'at-once') startPump();
          else if (stream === 'no') for (let k = 0; k < 16; k++) s.write(chunk);
        });
        const cap = setTimeout(() => {
          clearInterval(pump);
          s.destroy();
          resolve({ answer, closed: false });
        }, 20_000);
        s.on('close', () => {
          clearInterval(pump);
          clearTimeout(cap);
          resolve({ answer, closed: true });
        });
      });
    const bigHead = `GET ${origin.url}/ HTTP/1.1\r\n${basic('fred', 'flood-pw')}X-Big: `;
    const big = Array.from({ length: 25 }, (_, i) => client(bigHead, i >= 20 ? 'at-once' : 'no'));
    const all = Promise.all(big);
    await wellBehaved(all);
    for (const { answer, closed } of await all) {
      assert.match(answer, /^HTTP\/1\.1 431 /);
      assert.ok(closed, 'the gateway closed the connection');
    }
    // A refused tunnel (CONNECT to a closed port: 502 target_refused), then a
    // client that streams on with its write side open: dropped all the same.
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as net.AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const refused = await client(
      `CONNECT 127.0.0.1:${closedPort} HTTP/1.1\r\n${basic('fred', 'flood-pw')}\r\n`,
      'after-answer',
    );
    assert.match(refused.answer, /^HTTP\/1\.1 502 [\s\S]*target_refused/);
    assert.ok(refused.closed, 'the gateway closed the refused tunnel the client kept writing to');
    // Oversized SOCKS fields: refused and closed.
    const socks4 = await rawExchange(port, [
      Buffer.concat([Buffer.from([4, 1, 0, 80, 1, 2, 3, 4]), Buffer.alloc(4096, 0x61)]),
    ]);
    assert.equal(socks4.length, 0, 'SOCKS4 USERID over 512 bytes: closed without a grant');
    await quiet();
  });
});
