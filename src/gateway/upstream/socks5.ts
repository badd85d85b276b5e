// SOCKS5 upstream (RFC 1928) with username/password (RFC 1929). Names are
// sent as domain targets (ATYP 3) so the upstream resolves them: the exit
// is the upstream's, and so must its DNS be. After the TCP connect (its own
// timeout), the whole handshake (method, credentials, CONNECT reply) has one
// deadline of the connect timeout: an upstream answering each step just in
// time cannot hold a client for several timeouts.

import type net from 'node:net';
import { isIPv4, isIPv6 } from 'node:net';
import { type ErrorCode, PcError } from '../../errors.ts';
import { messageReader } from '../message-reader.ts';
import { connectTcp } from './net.ts';
import type { DialContext, Route } from './route.ts';

const fixed = (n: number) => (buf: Buffer) =>
  buf.length >= n ? { value: buf.subarray(0, n), used: n } : null;

/** The reply to CONNECT: VER REP RSV ATYP BND.ADDR BND.PORT (variable length). */
function parseConnectReply(buf: Buffer): { value: number; used: number } | null {
  if (buf.length < 5) return null;
  if (buf[0] !== 5) throw new PcError('PC_ERR_UPSTREAM_PROTOCOL', 'upstream is not SOCKS5');
  const atyp = buf[3];
  const len = atyp === 1 ? 10 : atyp === 4 ? 22 : atyp === 3 ? 7 + buf[4] : -1;
  if (len < 0) {
    if (buf[1] !== 0) return { value: buf[1], used: buf.length };
    throw new PcError('PC_ERR_UPSTREAM_PROTOCOL', 'upstream sent a bad address type');
  }
  if (buf.length < len) return buf[1] !== 0 ? { value: buf[1], used: buf.length } : null;
  return { value: buf[1], used: len };
}

const REPLY_CODES: Record<number, ErrorCode> = {
  1: 'PC_ERR_TARGET_UNREACHABLE',
  2: 'PC_ERR_TARGET_FORBIDDEN',
  3: 'PC_ERR_TARGET_UNREACHABLE',
  4: 'PC_ERR_TARGET_UNREACHABLE',
  5: 'PC_ERR_TARGET_REFUSED',
  6: 'PC_ERR_TARGET_TIMEOUT',
};

export function encodeAddress(host: string, port: number): Buffer {
  let addr: Buffer;
  if (isIPv4(host)) addr = Buffer.from([1, ...host.split('.').map(Number)]);
  else if (isIPv6(host)) {
    addr = Buffer.alloc(17);
    addr[0] = 4;
    const big = ipv6Bytes(host);
    big.copy(addr, 1);
  } else {
    const name = Buffer.from(host, 'utf8');
    if (name.length > 255) throw new PcError('PC_ERR_ADDRESS_TYPE', 'target name longer than 255 bytes');
    addr = Buffer.concat([Buffer.from([3, name.length]), name]);
  }
  const out = Buffer.alloc(addr.length + 2);
  addr.copy(out);
  out.writeUInt16BE(port, addr.length);
  return out;
}

function ipv6Bytes(text: string): Buffer {
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}

export async function socks5Tunnel(
  route: Route,
  host: string,
  port: number,
  ctx: DialContext,
): Promise<net.Socket> {
  const t = route.target;
  const s = await connectTcp(t.host, t.port, ctx.connectTimeoutMs, true, ctx.track, ctx.recycle);
  const what = `upstream ${route.label}`;
  const reader = messageReader(
    s,
    ctx.connectTimeoutMs,
    'PC_ERR_UPSTREAM_DOWN',
    what,
    null,
    'PC_ERR_UPSTREAM_TIMEOUT',
  );
  try {
    const creds = t.username !== null;
    s.write(Buffer.from(creds ? [5, 2, 0, 2] : [5, 1, 0]));
    const choice = await reader.next(fixed(2));
    if (choice[0] !== 5) throw new PcError('PC_ERR_UPSTREAM_PROTOCOL', `${what} is not SOCKS5`);
    if (choice[1] === 2 && creds) {
      const u = Buffer.from(t.username ?? '', 'utf8');
      const p = Buffer.from(t.password ?? '', 'utf8');
      s.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
      // RFC 1929 answers a refusal with a status before closing: a close with no
      // status is an upstream that went away, not one that refused us.
      const status = await reader.next(fixed(2));
      if (status[1] !== 0)
        throw new PcError(
          'PC_ERR_UPSTREAM_AUTH',
          `${what} refused our credentials (RFC 1929 status ${status[1]})`,
        );
    } else if (choice[1] !== 0) {
      throw new PcError('PC_ERR_UPSTREAM_AUTH', `${what} accepts none of our authentication methods`);
    }
    s.write(Buffer.concat([Buffer.from([5, 1, 0]), encodeAddress(host, port)]));
    const rep = await reader.next(parseConnectReply);
    if (rep !== 0)
      throw new PcError(
        REPLY_CODES[rep] ?? 'PC_ERR_UPSTREAM_PROTOCOL',
        `${what} answered SOCKS reply ${rep}`,
      );
    // Paused, with any bytes the upstream sent ahead handed back for the relay.
    reader.finish();
    return s;
  } catch (e) {
    reader.finish();
    s.destroy();
    throw e;
  }
}
