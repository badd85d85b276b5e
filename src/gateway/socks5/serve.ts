// SOCKS5 server side (RFC 1928) with username/password (RFC 1929). Method
// 0x02 when the client offers it; 0x00 "no authentication" only for a client
// whose IP is whitelisted; else 0xFF. CONNECT only: BIND and UDP ASSOCIATE
// get 0x07, an unknown address type 0x08. Admission refusals use the
// catalog's SOCKS reply code.
import type net from 'node:net';
import { ERRORS, isPcError, SOCKS } from '../../errors.ts';
import { admit, authenticate, credentialKey, logRefusal, whitelisted } from '../admit.ts';
import { finish, type GatewayContext } from '../context.ts';
import { type MessageReader, messageReader } from '../message-reader.ts';
import { openTunnel } from '../tunnel.ts';
import { authority } from '../upstream/route.ts';
import { NO_ACCEPTABLE, parseGreeting, parseRequest, parseUserPass, REPLY_OK, reply } from './messages.ts';

const AUTH_OK = Buffer.from([1, 0]);
const AUTH_FAIL = Buffer.from([1, 1]);
// RFC 1929 §2: any non-zero status is a failure; the catalog's 0x02 tells a locked-out client apart.
const AUTH_LOCKED = Buffer.from([1, ERRORS.PC_ERR_AUTH_LOCKED.socks]);
const CHOOSE_USERPASS = Buffer.from([5, 2]);
const CHOOSE_NONE = Buffer.from([5, 0]);

const replies = {
  protocol: 'socks5',
  ok: () => REPLY_OK,
  fail: (code: keyof typeof ERRORS) => reply(ERRORS[code].socks),
};

/** Serves SOCKS5 on a client socket; `first` is the chunk the protocol sniffer read. */
export function serveSocks5(g: GatewayContext, client: net.Socket, port: number, first: Buffer): void {
  // One reader and one deadline for the whole handshake (message-reader.ts).
  const reader = messageReader(client, g.headerTimeoutMs, 'PC_ERR_BAD_REQUEST', 'socks5 client', first);
  run(g, client, port, reader).catch((e) => {
    // Garbage, truncation, a deadline or a client gone mid-handshake: the reader destroyed the socket.
    if (!isPcError(e)) g.log.error({ err: e }, 'socks5 handshake failed unexpectedly');
    reader.finish();
    client.destroy();
  });
}

function end(reader: MessageReader, client: net.Socket, bytes: Buffer): void {
  reader.finish();
  finish(client, bytes);
}

async function run(
  g: GatewayContext,
  client: net.Socket,
  port: number,
  reader: MessageReader,
): Promise<void> {
  const methods = await reader.next(parseGreeting);
  let policy = null;
  if (methods.includes(2)) {
    client.write(CHOOSE_USERPASS);
    const { username, password } = await reader.next(parseUserPass);
    const r = await authenticate(g, client, { key: credentialKey(username, password), username, password });
    if (typeof r === 'string') {
      logRefusal(g, r, client, port, { username, protocol: 'socks5' });
      return end(reader, client, r === 'PC_ERR_AUTH_LOCKED' ? AUTH_LOCKED : AUTH_FAIL);
    }
    client.write(AUTH_OK);
    policy = r;
  } else if (methods.includes(0)) {
    policy = whitelisted(g, client) ?? null;
    if (!policy) {
      logRefusal(g, 'PC_ERR_AUTH_REQUIRED', client, port, { protocol: 'socks5' });
      return end(reader, client, NO_ACCEPTABLE);
    }
    client.write(CHOOSE_NONE);
  } else {
    logRefusal(g, 'PC_ERR_AUTH_REQUIRED', client, port, { protocol: 'socks5' });
    return end(reader, client, NO_ACCEPTABLE);
  }
  const req = await reader.next(parseRequest);
  // The handshake is read: from here the tunnel (or a refusal) owns the socket.
  reader.finish();
  if (req.atyp === 0) {
    logRefusal(g, 'PC_ERR_ADDRESS_TYPE', client, port, { username: policy.username, protocol: 'socks5' });
    return finish(client, reply(SOCKS.ADDRESS_TYPE_NOT_SUPPORTED));
  }
  if (req.cmd !== 1) {
    logRefusal(g, 'PC_ERR_COMMAND_NOT_SUPPORTED', client, port, {
      username: policy.username,
      detail: `command ${req.cmd}`,
      protocol: 'socks5',
    });
    return finish(client, reply(SOCKS.COMMAND_NOT_SUPPORTED));
  }
  const target = authority(req.host, req.port);
  const conn = await admit(g, policy, client, port, target);
  if (typeof conn === 'string') {
    logRefusal(g, conn, client, port, { username: policy.username, target, protocol: 'socks5' });
    return finish(client, reply(ERRORS[conn].socks));
  }
  await openTunnel(g, conn, client, req.host, req.port, replies);
}
