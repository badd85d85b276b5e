// HTTP CONNECT (RFC 9110 §9.3.6): authority-form target, then a tunnel.
// Bytes the client sent after the CONNECT head (a TLS ClientHello sent
// early) go to the target first.
import type net from 'node:net';
import type { GatewayContext } from '../context.ts';
import type { Conn } from '../registry.ts';
import { openTunnel } from '../tunnel.ts';
import type { RequestHead } from './parse.ts';
import { splitHostPort } from './parse.ts';
import { replyFor } from './reply.ts';

const ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n', 'latin1');

const replies = {
  protocol: 'http-connect',
  ok: () => ESTABLISHED,
  fail: replyFor,
};

/** Parses the CONNECT target; null when it is not host:port. */
export function connectTarget(h: RequestHead): { host: string; port: number } | null {
  const hp = splitHostPort(h.target, 0);
  return hp && hp.port > 0 ? hp : null;
}

export function handleConnect(
  g: GatewayContext,
  conn: Conn,
  client: net.Socket,
  target: { host: string; port: number },
  rest: Buffer | null,
): void {
  conn.target = target.host.includes(':')
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
  openTunnel(g, conn, client, target.host, target.port, replies, rest ?? undefined).catch((e) => {
    g.log.error({ err: e, conn: conn.id }, 'connect failed unexpectedly');
    g.registry.close(conn);
  });
}
