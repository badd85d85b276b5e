// SOCKS5 server side (RFC 1928) with username/password (RFC 1929). Method
// 0x02 when the client offers it; 0x00 "no authentication" only for a client
// whose IP is whitelisted; else 0xFF. CONNECT only: BIND and UDP ASSOCIATE
// get 0x07, an unknown address type 0x08. Admission refusals use the
// catalog's SOCKS reply code.
import type net from 'node:net';
import { ERRORS, isPcError, SOCKS } from '../../errors.ts';
import { admit, authenticate, credentialKey, logRefusal, whitelisted } from '../admit.ts';
import type { GatewayContext } from '../context.ts';
import { openTunnel } from '../tunnel.ts';
import { readReply } from '../upstream/net.ts';
import { authority } from '../upstream/route.ts';
import { NO_ACCEPTABLE, parseGreeting, parseRequest, parseUserPass, REPLY_OK, reply } from './messages.ts';

const AUTH_OK = Buffer.from([1, 0]);
const AUTH_FAIL = Buffer.from([1, 1]);

const replies = {
  protocol: 'socks5',
  ok: () => REPLY_OK,
  fail: (code: keyof typeof ERRORS) => reply(ERRORS[code].socks),
};

function end(client: net.Socket, bytes: Buffer): void {
  client.removeAllListeners('data');
  client.resume();
  client.setTimeout(2000, () => client.destroy());
  client.end(bytes);
}

export function serveSocks5(g: GatewayContext, client: net.Socket, port: number): void {
  run(g, client, port).catch((e) => {
    // Garbage, truncation or a client gone mid-handshake: readReply destroyed the socket.
    if (!isPcError(e)) g.log.error({ err: e }, 'socks5 handshake failed unexpectedly');
    client.destroy();
  });
}

async function run(g: GatewayContext, client: net.Socket, port: number): Promise<void> {
  const t = g.headerTimeoutMs;
  const methods = await readReply(client, parseGreeting, t, 'PC_ERR_BAD_REQUEST', 'socks5 client');
  let policy = null;
  if (methods.includes(2)) {
    client.write(Buffer.from([5, 2]));
    const { username, password } = await readReply(
      client,
      parseUserPass,
      t,
      'PC_ERR_BAD_REQUEST',
      'socks5 client',
    );
    const r = await authenticate(g, client, { key: credentialKey(username, password), username, password });
    if (typeof r === 'string') {
      logRefusal(g, r, client, port, { username, protocol: 'socks5' });
      return end(client, AUTH_FAIL);
    }
    client.write(AUTH_OK);
    policy = r;
  } else if (methods.includes(0)) {
    policy = whitelisted(g, client) ?? null;
    if (!policy) {
      logRefusal(g, 'PC_ERR_AUTH_REQUIRED', client, port, { protocol: 'socks5' });
      return end(client, NO_ACCEPTABLE);
    }
    client.write(Buffer.from([5, 0]));
  } else {
    logRefusal(g, 'PC_ERR_AUTH_REQUIRED', client, port, { protocol: 'socks5' });
    return end(client, NO_ACCEPTABLE);
  }
  const req = await readReply(client, parseRequest, t, 'PC_ERR_BAD_REQUEST', 'socks5 client');
  if (req.atyp === 0) {
    logRefusal(g, 'PC_ERR_ADDRESS_TYPE', client, port, { username: policy.username, protocol: 'socks5' });
    return end(client, reply(SOCKS.ADDRESS_TYPE_NOT_SUPPORTED));
  }
  if (req.cmd !== 1) {
    logRefusal(g, 'PC_ERR_COMMAND_NOT_SUPPORTED', client, port, {
      username: policy.username,
      detail: `command ${req.cmd}`,
      protocol: 'socks5',
    });
    return end(client, reply(SOCKS.COMMAND_NOT_SUPPORTED));
  }
  const target = authority(req.host, req.port);
  const conn = await admit(g, policy, client, port, target);
  if (typeof conn === 'string') {
    logRefusal(g, conn, client, port, { username: policy.username, target, protocol: 'socks5' });
    return end(client, reply(ERRORS[conn].socks));
  }
  await openTunnel(g, conn, client, req.host, req.port, replies);
}
