// Origins the client tests add to test/helpers/origin.ts.
//
// dualStackOrigin(): the plain origin on the wildcard address when the host
// has IPv6, so a name like "localhost" works whichever family a resolver
// (the gateway's, or a SOCKS peer's) returns first.
//
// startTlsOrigin(): an HTTPS origin on 127.0.0.1 with a throw-away self-signed certificate
// (made by openssl for this run), so clients must tunnel with CONNECT and
// can still verify the peer: the certificate is handed to them as their CA.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Origin, startOrigin } from '../helpers/origin.ts';
import { findBinary } from '../helpers/peers.ts';

export async function dualStackOrigin(): Promise<Origin> {
  try {
    return await startOrigin({ host: '::' });
  } catch {
    return startOrigin({ host: '127.0.0.1' });
  }
}

export const TLS_BODY = 'hello over tls\n';

export interface TlsOrigin {
  port: number;
  /** https://127.0.0.1:PORT */
  url: string;
  /** PEM certificate, to trust as a CA */
  cert: string;
  close(): Promise<void>;
}

function selfSigned(): { key: string; cert: string } {
  const openssl = findBinary('openssl', 'openssl');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pc-tls-'));
  try {
    execFileSync(
      openssl,
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-days',
        '2',
        '-keyout',
        `${dir}/key.pem`,
        '-out',
        `${dir}/cert.pem`,
      ],
      { stdio: 'ignore', timeout: 10_000 },
    );
    return { key: readFileSync(`${dir}/key.pem`, 'utf8'), cert: readFileSync(`${dir}/cert.pem`, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** GET / answers TLS_BODY; GET /bytes/N answers N bytes of 'a'. */
export async function startTlsOrigin(): Promise<TlsOrigin> {
  const { key, cert } = selfSigned();
  const server = https.createServer({ key, cert }, (req, res) => {
    const m = /^\/bytes\/(\d{1,8})$/.exec(req.url ?? '');
    const body = m ? Buffer.alloc(Number(m[1]), 0x61) : Buffer.from(TLS_BODY);
    res.writeHead(200, {
      'content-type': m ? 'application/octet-stream' : 'text/plain',
      'content-length': body.length,
    });
    res.end(body);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    cert,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
