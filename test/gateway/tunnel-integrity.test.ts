// Tunnels read their upstream socket into recycled buffers (upstream/net.ts):
// a shared scratch buffer while quiet, a buffer of the tunnel's own once it
// streams, replaced whenever a write still holds it. These tests make every
// one of those paths carry data and check each byte arrives intact and in
// order: many tunnels streaming at once (scratch and own buffers interleaved),
// slow readers (writes the kernel cannot take at once, so buffers are
// retained), small trickles, and both directions at once.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eventually, type Harness, startHarness } from './harness.ts';

/** Deterministic bytes for (seed, length): what the pattern origin sends. */
function pattern(seed: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Origin: reads "seed length chunk delayMs uploadLength\n", then sends
 * pattern(seed, length) in writes of `chunk` bytes, `delayMs` apart (0: as
 * fast as the socket takes them). Meanwhile it hashes the `uploadLength` bytes
 * the client sends after the line; once both are done it sends "sha:<hex>\n"
 * and ends.
 */
function startPatternOrigin(): Promise<net.Server> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    let head = Buffer.alloc(0);
    const upload = createHash('sha256');
    let started = false;
    let uploadLeft = 0;
    let onUploaded = (): void => {};
    const take = (d: Buffer): void => {
      upload.update(d);
      uploadLeft -= d.length;
      if (uploadLeft <= 0) onUploaded();
    };
    s.on('data', (d: Buffer) => {
      if (started) {
        take(d);
        return;
      }
      head = Buffer.concat([head, d]);
      const nl = head.indexOf(10);
      if (nl < 0) return;
      started = true;
      const [seed, length, chunk, delay, uploadLength] = head
        .subarray(0, nl)
        .toString()
        .split(' ')
        .map(Number);
      const data = pattern(seed, length);
      let off = 0;
      let sentAll = false;
      let uploaded = uploadLength === 0;
      const finish = (): void => {
        if (sentAll && uploaded) s.end(`sha:${upload.digest('hex')}\n`);
      };
      onUploaded = () => {
        uploaded = true;
        finish();
      };
      uploadLeft = uploadLength;
      if (nl + 1 < head.length) take(head.subarray(nl + 1));
      const next = (): void => {
        while (off < data.length) {
          const piece = data.subarray(off, off + chunk);
          off += piece.length;
          const more = s.write(piece);
          if (delay > 0) {
            setTimeout(next, delay);
            return;
          }
          if (!more) {
            s.once('drain', next);
            return;
          }
        }
        sentAll = true;
        finish();
      };
      next();
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

interface Fetch {
  body: Buffer;
  uploadSha: string;
}

/**
 * Through the gateway (CONNECT or SOCKS5): ask the origin for a pattern,
 * upload `upload` at the same time, read everything; a slow reader pauses
 * for `pauseMs` after every `pauseEvery` bytes.
 */
function fetchThrough(
  proxyPort: number,
  originPort: number,
  mode: 'connect' | 'socks5',
  ask: { seed: number; length: number; chunk: number; delayMs: number },
  opts: { upload?: Buffer; pauseEvery?: number; pauseMs?: number } = {},
): Promise<Fetch> {
  return new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, '127.0.0.1');
    const parts: Buffer[] = [];
    let phase: 'handshake' | 'auth' | 'connect' | 'data' = 'handshake';
    let hs = Buffer.alloc(0);
    let sinceP = 0;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`timed out in ${phase} after ${parts.reduce((a, p) => a + p.length, 0)} bytes`));
    }, 60_000);
    const start = (): void => {
      phase = 'data';
      s.write(`${ask.seed} ${ask.length} ${ask.chunk} ${ask.delayMs} ${opts.upload?.length ?? 0}\n`);
      if (opts.upload) s.write(opts.upload);
    };
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('connect', () => {
      if (mode === 'connect') {
        const auth = Buffer.from('tess:pw').toString('base64');
        s.write(
          `CONNECT 127.0.0.1:${originPort} HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`,
        );
      } else s.write(Buffer.from([5, 1, 2]));
    });
    s.on('data', (d: Buffer) => {
      if (phase === 'data') {
        parts.push(d);
        sinceP += d.length;
        if (opts.pauseEvery && sinceP >= opts.pauseEvery) {
          sinceP = 0;
          s.pause();
          setTimeout(() => s.resume(), opts.pauseMs ?? 5);
        }
        return;
      }
      hs = Buffer.concat([hs, d]);
      if (mode === 'connect') {
        const e = hs.indexOf('\r\n\r\n');
        if (e < 0) return;
        if (!/^HTTP\/1\.1 200 /.test(hs.toString('latin1'))) return reject(new Error(hs.toString()));
        const rest = hs.subarray(e + 4);
        start();
        if (rest.length) parts.push(rest);
        return;
      }
      if (phase === 'handshake' && hs.length >= 2) {
        hs = hs.subarray(2);
        phase = 'auth';
        const u = Buffer.from('tess');
        const p = Buffer.from('pw');
        s.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
      }
      if (phase === 'auth' && hs.length >= 2) {
        if (hs[1] !== 0) return reject(new Error('socks5 auth refused'));
        hs = hs.subarray(2);
        phase = 'connect';
        const req = Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, 0, 0]);
        req.writeUInt16BE(originPort, 8);
        s.write(req);
      }
      if (phase === 'connect' && hs.length >= 10) {
        if (hs[1] !== 0) return reject(new Error(`socks5 connect refused: ${hs[1]}`));
        const rest = hs.subarray(10);
        start();
        if (rest.length) parts.push(rest);
      }
    });
    s.on('end', () => {
      clearTimeout(timer);
      const all = Buffer.concat(parts);
      const tail = all.lastIndexOf('sha:');
      if (tail < 0) return reject(new Error(`no upload hash after ${all.length} bytes`));
      resolve({ body: all.subarray(0, tail), uploadSha: all.subarray(tail + 4, tail + 68).toString() });
    });
  });
}

describe('gateway: tunnel bytes arrive intact through recycled read buffers', () => {
  let h: Harness;
  let origin: net.Server;
  let originPort: number;
  let port: number;
  let customerId: number;

  before(async () => {
    h = await startHarness();
    origin = await startPatternOrigin();
    originPort = (origin.address() as net.AddressInfo).port;
    const plan = await h.addPlan({ name: 'integrity', threads: 1000 });
    customerId = await h.addCustomer('tess', 'pw', plan);
    port = await h.addUpstream({ protocol: 'direct' });
  });
  after(async () => {
    await h.close();
    await new Promise((r) => origin.close(r));
  });

  const check = (got: Fetch, seed: number, length: number, upload?: Buffer): void => {
    assert.equal(got.body.length, length);
    assert.equal(sha(got.body), sha(pattern(seed, length)), `seed ${seed}: bytes differ`);
    assert.equal(got.uploadSha, sha(upload ?? Buffer.alloc(0)));
  };

  test('16 tunnels at once, CONNECT and SOCKS5, fast readers and slow ones', async () => {
    const runs = Array.from({ length: 16 }, (_, i) => {
      const seed = 1000 + i;
      const length = 3_000_000 + i * 7919;
      const slow = i % 2 === 0;
      return fetchThrough(
        port,
        originPort,
        i % 4 < 2 ? 'connect' : 'socks5',
        { seed, length, chunk: 256 * 1024, delayMs: 0 },
        slow ? { pauseEvery: 200_000, pauseMs: 3 } : {},
      ).then((got) => check(got, seed, length));
    });
    await Promise.all(runs);
  });

  test('trickles (small writes, spaced out) share the scratch buffer with a stream', async () => {
    const trickles = Array.from({ length: 6 }, (_, i) => {
      const seed = 2000 + i;
      return fetchThrough(port, originPort, i % 2 ? 'socks5' : 'connect', {
        seed,
        length: 20_000,
        chunk: 100 + i * 37,
        delayMs: 1,
      }).then((got) => check(got, seed, 20_000));
    });
    const stream = fetchThrough(port, originPort, 'connect', {
      seed: 2100,
      length: 8_000_000,
      chunk: 64 * 1024,
      delayMs: 0,
    }).then((got) => check(got, 2100, 8_000_000));
    await Promise.all([...trickles, stream]);
  });

  test('a slow reader behind a steady origin: reads the client cannot take at once stay intact', async () => {
    // 40 KB writes 1 ms apart arrive as reads of a tunnel's own buffer that
    // are not full, so the relay's write does not stop the reader; the client
    // reads at ~10 MB/s, so once the kernel's buffers are full those writes
    // stay queued, still pointing at the buffer they were read into.
    const runs = [0, 1].map((i) =>
      fetchThrough(
        port,
        originPort,
        i === 0 ? 'connect' : 'socks5',
        { seed: 4000 + i, length: 24_000_000, chunk: 40_000, delayMs: 1 },
        { pauseEvery: 128 * 1024, pauseMs: 12 },
      ).then((got) => check(got, 4000 + i, 24_000_000)),
    );
    await Promise.all(runs);
  });

  test('upload and download at once, with a slow reader', async () => {
    const upload = pattern(77, 2_000_000);
    const got = await fetchThrough(
      port,
      originPort,
      'connect',
      { seed: 3000, length: 4_000_000, chunk: 32 * 1024, delayMs: 0 },
      { upload, pauseEvery: 500_000, pauseMs: 10 },
    );
    check(got, 3000, 4_000_000, upload);
    await eventually(async () => (await h.live.threads(customerId)) === 0);
  });
});
