// A small real origin server on loopback for integration tests: the thing a
// proxy under test fetches from. Plain node:http on an ephemeral port.
//
//   GET /            small fixed body ("hello from origin\n")
//   GET /bytes/N     N bytes (0x61 'a'), Content-Length set, streamed in chunks
//   ANY /echo        JSON {method, url, headers, body} of the request as received
//   GET /slow?ms=N   answers after N ms (default 1000), for timeout tests
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const ORIGIN_BODY = 'hello from origin\n';

export interface Origin {
  port: number;
  /** base URL, e.g. http://127.0.0.1:34567 (no trailing slash) */
  url: string;
  close(): Promise<void>;
}

export interface EchoAnswer {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** raw header pairs as received, to check hop-by-hop removal and case */
  rawHeaders: string[];
  body: string;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const MAX_BYTES = 1 << 30;
const MAX_SLOW_MS = 60_000;

function sendBytes(res: http.ServerResponse, n: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
  let left = n;
  // Respect backpressure so a slow proxy under test does not make us buffer N bytes.
  const pump = (): void => {
    while (left > 0) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const u = new URL(req.url ?? '/', 'http://origin');
  if (u.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(ORIGIN_BODY) });
    res.end(ORIGIN_BODY);
    return;
  }
  const bytes = /^\/bytes\/(\d+)$/.exec(u.pathname);
  if (bytes) {
    const n = Number(bytes[1]);
    if (!Number.isSafeInteger(n) || n > MAX_BYTES) {
      res.writeHead(400).end('too many bytes\n');
      return;
    }
    sendBytes(res, n);
    return;
  }
  if (u.pathname === '/echo') {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const answer: EchoAnswer = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(parts).toString('utf8'),
      };
      const json = JSON.stringify(answer);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
      res.end(json);
    });
    return;
  }
  if (u.pathname === '/slow') {
    const ms = Math.min(Number(u.searchParams.get('ms') ?? 1000) || 0, MAX_SLOW_MS);
    const timer = setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('slow\n');
    }, ms);
    // A client (or proxy) giving up must not leave a timer holding the test open.
    res.on('close', () => clearTimeout(timer));
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}

/** Starts the origin on 127.0.0.1 (or `host`, e.g. '::1') on an ephemeral port. */
export async function startOrigin(opts: { host?: string } = {}): Promise<Origin> {
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer(handle);
  // Keep-alive sockets from proxies would otherwise hold close() open.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    port,
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
