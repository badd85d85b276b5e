// The common tail of CONNECT, SOCKS5 and SOCKS4 once a connection is
// admitted: pick the port's upstream, dial the target through it, answer the
// client in its protocol, and hand both sockets to the relay.
import type net from 'node:net';
import { type ErrorCode, isPcError } from '../errors.ts';
import { logRefusal } from './admit.ts';
import { finish, type GatewayContext } from './context.ts';
import { dialTunnel } from './dial.ts';
import type { Conn } from './registry.ts';
import { relay } from './relay.ts';

export interface TunnelReplies {
  protocol: string;
  /** the success reply (written before relaying) */
  ok(): Buffer | Uint8Array;
  /** the refusal reply for a catalog code */
  fail(code: ErrorCode, detail?: string): Buffer | Uint8Array;
}

export async function openTunnel(
  g: GatewayContext,
  conn: Conn,
  client: net.Socket,
  host: string,
  port: number,
  replies: TunnelReplies,
  head?: Buffer,
): Promise<void> {
  const route = g.upstreams.pick(conn.port, g.config.gateway.failover);
  if (typeof route === 'string') return refuse(g, conn, client, replies, route);
  conn.upstream = route.label;
  let up: net.Socket;
  try {
    up = await dialTunnel(route, host, port, {
      connectTimeoutMs: g.connectTimeoutMs,
      guard: g.guard,
      recycle: true,
      track: (s) => {
        conn.peers.add(s);
        s.on('error', () => {});
        // A client gone mid-dial already closed the conn: do not let the dial live on.
        if (conn.closed) s.destroy();
      },
    });
  } catch (e) {
    if (conn.closed) return;
    if (isPcError(e)) return refuse(g, conn, client, replies, e.code, e.message);
    g.log.error({ err: e, conn: conn.id }, 'dial failed unexpectedly');
    return refuse(g, conn, client, replies, 'PC_ERR_INTERNAL');
  }
  if (conn.closed) {
    up.destroy();
    return;
  }
  client.write(replies.ok());
  relay(g, conn, client, up, head);
}

function refuse(
  g: GatewayContext,
  conn: Conn,
  client: net.Socket,
  replies: TunnelReplies,
  code: ErrorCode,
  detail?: string,
): void {
  logRefusal(g, code, client, conn.port, {
    username: conn.policy.username,
    target: conn.target,
    detail,
    protocol: replies.protocol,
  });
  // A deadline, not an idle timeout: a client that keeps sending after the refusal must not keep the socket.
  finish(client, replies.fail(code, detail));
}
