// HTTP upstream: tunnels with CONNECT and Basic credentials (RFC 9110 §9.3.6).
// A refusal of our credentials (407) is the operator's problem, not the
// customer's: it becomes 502 PC_ERR_UPSTREAM_AUTH naming the upstream. When
// the upstream is itself Portcullis its X-Portcullis-Code is passed through.
import type net from 'node:net';
import { ERRORS, type ErrorCode, PcError } from '../../errors.ts';
import { connectTcp, readReply } from './net.ts';
import { authority, type DialContext, type Route } from './route.ts';

interface ConnectReply {
  status: number;
  code: string | null;
}

const CODE_FIELD = /\r\nx-portcullis-code:\s*(PC_ERR_[A-Z_]+)/i;

function parseConnectReply(buf: Buffer): { value: ConnectReply; used: number } | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.toString('latin1', 0, end);
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!m) throw new PcError('PC_ERR_UPSTREAM_PROTOCOL', 'upstream did not answer HTTP');
  const status = Number(m[1]);
  // A refusal may carry a body; we drop the socket then, so only the head counts.
  return { value: { status, code: CODE_FIELD.exec(head)?.[1] ?? null }, used: end + 4 };
}

export function errorForStatus(status: number, code: string | null, label: string): PcError {
  if (status === 407)
    return new PcError('PC_ERR_UPSTREAM_AUTH', `upstream ${label} answered 407: refused our credentials`);
  if (code && code in ERRORS && !code.startsWith('PC_ERR_UPSTREAM'))
    return new PcError(code as ErrorCode, `upstream ${label} answered ${status} ${code}`);
  let c: ErrorCode = 'PC_ERR_UPSTREAM_PROTOCOL';
  if (status === 403) c = 'PC_ERR_TARGET_FORBIDDEN';
  else if (status === 504) c = 'PC_ERR_TARGET_TIMEOUT';
  else if (status === 502 || status === 503) c = 'PC_ERR_TARGET_UNREACHABLE';
  return new PcError(c, `upstream ${label} answered ${status}`);
}

export async function httpTunnel(
  route: Route,
  host: string,
  port: number,
  ctx: DialContext,
): Promise<net.Socket> {
  const t = route.target;
  const s = await connectTcp(t.host, t.port, ctx.connectTimeoutMs, true, ctx.track, ctx.recycle);
  const a = authority(host, port);
  s.write(
    `CONNECT ${a} HTTP/1.1\r\nHost: ${a}\r\n${route.basic ? `Proxy-Authorization: ${route.basic}\r\n` : ''}\r\n`,
    'latin1',
  );
  const reply = await readReply(
    s,
    parseConnectReply,
    ctx.connectTimeoutMs,
    'PC_ERR_UPSTREAM_DOWN',
    `upstream ${route.label}`,
  );
  if (reply.status >= 200 && reply.status < 300) return s;
  s.destroy();
  throw errorForStatus(reply.status, reply.code, route.label);
}
