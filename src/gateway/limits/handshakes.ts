// Connections from one client address still in their handshake (accepted,
// neither admitted nor closed yet), per gateway thread. Past
// PORTCULLIS_HANDSHAKES_PER_IP an address's new sockets are closed at once,
// before a byte is read. Without a cap one address could hold any number of
// sockets unauthenticated, each for up to the header timeout, and take the
// process's file descriptors and memory from every customer. Admitted
// connections leave the count (their caps are the plan's: threads, per-IP
// connections); an address on a customer's whitelist is never refused here,
// since the operator vouched for it.
import type net from 'node:net';
import type { Logger } from 'pino';
import { ERRORS } from '../../errors.ts';

export interface Handshakes {
  /**
   * Counts `client` as in handshake; false when its address is at the cap
   * (the caller closes the socket; refusals are logged at most once a second).
   */
  enter(client: net.Socket, port: number): boolean;
  /** The handshake is over: admitted, or the socket closed. Idempotent. */
  leave(client: net.Socket): void;
  /** sockets counted now (tests) */
  readonly size: number;
}

export function createHandshakes(o: {
  /** per address; 0: no cap */
  max: number;
  exempt: (ip: string) => boolean;
  log: Logger;
  now: () => number;
}): Handshakes {
  const byIp = new Map<string, number>();
  const pending = new Map<net.Socket, string>();
  let loggedAt = Number.NEGATIVE_INFINITY;
  let unlogged = 0;

  function refused(ip: string, port: number): void {
    unlogged++;
    const t = o.now();
    if (t - loggedAt < 1000) return;
    o.log.info(
      {
        code: 'PC_ERR_IP_LIMITED',
        reason: ERRORS.PC_ERR_IP_LIMITED.reason,
        client: ip,
        port,
        detail: `more than ${o.max} connections from this address in handshake; closed unanswered`,
        // closed since the last line, from any address
        refusals: unlogged,
      },
      'refused',
    );
    loggedAt = t;
    unlogged = 0;
  }

  return {
    enter(client, port) {
      if (o.max === 0) return true;
      const ip = client.remoteAddress ?? '';
      const n = byIp.get(ip) ?? 0;
      if (n >= o.max && !o.exempt(ip)) {
        refused(ip, port);
        return false;
      }
      byIp.set(ip, n + 1);
      pending.set(client, ip);
      return true;
    },
    leave(client) {
      const ip = pending.get(client);
      if (ip === undefined) return;
      pending.delete(client);
      const n = byIp.get(ip) ?? 1;
      if (n <= 1) byIp.delete(ip);
      else byIp.set(ip, n - 1);
    },
    get size() {
      return pending.size;
    },
  };
}
