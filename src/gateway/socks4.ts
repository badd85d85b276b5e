// SOCKS4 and SOCKS4a (CONNECT only). The USERID field carries
// "username:password"; an empty one is accepted only from a whitelisted IP.
// SOCKS4 has one refusal code (0x5B), so the reason lives in our log line.
// 4a: DSTIP 0.0.0.x (x != 0) means a host name follows the USERID.
import type net from 'node:net';
import { isPcError, PcError } from '../errors.ts';
import { admit, authenticate, credentialKey, logRefusal, whitelisted } from './admit.ts';
import { finish, type GatewayContext } from './context.ts';
import { openTunnel } from './tunnel.ts';
import { readReply } from './upstream/net.ts';

const MAX_FIELD = 512;
const GRANTED = Buffer.from([0, 0x5a, 0, 0, 0, 0, 0, 0]);
const REJECTED = Buffer.from([0, 0x5b, 0, 0, 0, 0, 0, 0]);

export interface Socks4Request {
  cmd: number;
  port: number;
  host: string;
  userid: string;
}

/** SOCKS4/4a request: VN CD DSTPORT DSTIP USERID NUL [HOST NUL]; null means "need more". */
export function parseSocks4Request(buf: Buffer): { value: Socks4Request; used: number } | null {
  if (buf.length < 9) return null;
  // A field's limit holds whether or not its NUL has arrived: the answer must not
  // depend on how TCP split the request.
  const nul = buf.indexOf(0, 8);
  if ((nul < 0 ? buf.length : nul) - 8 > MAX_FIELD)
    throw new PcError('PC_ERR_BAD_REQUEST', 'SOCKS4 userid too long');
  if (nul < 0) return null;
  const userid = buf.toString('utf8', 8, nul);
  let host = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
  let used = nul + 1;
  if (buf[4] === 0 && buf[5] === 0 && buf[6] === 0 && buf[7] !== 0) {
    const end = buf.indexOf(0, used);
    if ((end < 0 ? buf.length : end) - used > MAX_FIELD)
      throw new PcError('PC_ERR_BAD_REQUEST', 'SOCKS4a name too long');
    if (end < 0) return null;
    host = buf.toString('latin1', used, end);
    if (!host) throw new PcError('PC_ERR_BAD_REQUEST', 'empty SOCKS4a name');
    used = end + 1;
  }
  return { value: { cmd: buf[1], port: buf.readUInt16BE(2), host, userid }, used };
}

const replies = { protocol: 'socks4', ok: () => GRANTED, fail: () => REJECTED };

function end(client: net.Socket): void {
  finish(client, REJECTED);
}

export function serveSocks4(g: GatewayContext, client: net.Socket, port: number): void {
  run(g, client, port).catch((e) => {
    if (!isPcError(e)) g.log.error({ err: e }, 'socks4 handshake failed unexpectedly');
    client.destroy();
  });
}

async function run(g: GatewayContext, client: net.Socket, port: number): Promise<void> {
  const req = await readReply(
    client,
    parseSocks4Request,
    g.headerTimeoutMs,
    'PC_ERR_BAD_REQUEST',
    'socks4 client',
  );
  const target = `${req.host}:${req.port}`;
  if (req.cmd !== 1) {
    logRefusal(g, 'PC_ERR_COMMAND_NOT_SUPPORTED', client, port, { target, protocol: 'socks4' });
    return end(client);
  }
  const colon = req.userid.indexOf(':');
  let policy: Awaited<ReturnType<typeof authenticate>>;
  if (colon > 0) {
    const username = req.userid.slice(0, colon);
    const password = req.userid.slice(colon + 1);
    policy = await authenticate(g, client, { key: credentialKey(username, password), username, password });
  } else policy = whitelisted(g, client) ?? (req.userid ? 'PC_ERR_BAD_CREDENTIALS' : 'PC_ERR_AUTH_REQUIRED');
  if (typeof policy === 'string') {
    logRefusal(g, policy, client, port, { target, protocol: 'socks4' });
    return end(client);
  }
  const conn = await admit(g, policy, client, port, target);
  if (typeof conn === 'string') {
    logRefusal(g, conn, client, port, { username: policy.username, target, protocol: 'socks4' });
    return end(client);
  }
  await openTunnel(g, conn, client, req.host, req.port, replies);
}
