// What every protocol handler of the gateway shares: settings in ms, the
// policy cache, the port -> upstream table, the live-connection registry and
// the egress guard. Built once by index.ts.
import type net from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { LiveState } from '../live/live.ts';
import type { AuthGuard } from '../security/auth-guard.ts';
import type { EgressGuard } from './egress.ts';
import type { Handshakes } from './limits/handshakes.ts';
import type { Limits } from './limits/index.ts';
import type { PolicyCache } from './policy-cache.ts';
import type { Registry } from './registry.ts';
import type { StrikeWatcher } from './strike.ts';
import type { UpstreamTable } from './upstreams.ts';

export interface GatewayContext {
  config: Readonly<Config>;
  log: Logger;
  live: LiveState;
  policies: PolicyCache;
  upstreams: UpstreamTable;
  registry: Registry;
  guard: EgressGuard;
  /** issue 4's limits: requests/s, per-IP, quota, expiry on first use, bandwidth */
  limits: Limits;
  /** the gateway's clock (ms since epoch); tests inject one */
  now: () => number;
  /** soft-mode strike rule: told of each acquired thread */
  strike: StrikeWatcher;
  /** credential lock-out: checked before and after each password check, told of each outcome */
  authGuard: AuthGuard;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  /** every accepted client socket until it closes (admitted or not), for stop() and leak checks */
  sockets: Set<net.Socket>;
  /** client sockets per address not yet admitted, capped (limits/handshakes.ts) */
  handshakes: Handshakes;
}

/** Ends a client with a last reply, then drops it even if the client never closes its side. */
export function finish(client: net.Socket, reply: Buffer | Uint8Array | null): void {
  if (client.destroyed) return;
  // Keep reading (and discarding) so unread request bytes do not turn our
  // close into an RST that could destroy the reply in the client's buffer.
  client.removeAllListeners('data');
  client.resume();
  // A deadline, not an idle timeout: a client that keeps sending must not keep the socket.
  const drop = setTimeout(() => client.destroy(), 2000);
  client.once('close', () => clearTimeout(drop));
  if (reply) client.end(reply);
  else client.end();
}
