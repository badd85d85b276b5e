// Authentication and admission, the same for every protocol.
//
// authenticate(): credentials (cached verification, policy-cache.ts) or the
// client's whitelisted IP; credentials pass the lock-out guard first
// (security/auth-guard.ts: a Map lookup, no I/O). admit(): status/ban/expiry/lock-out
// (domain/access.ts), then quota, per-IP and requests/s (limits/), then one
// thread of the customer's cap in live state.
import type net from 'node:net';
import { checkAccess, threadCap } from '../domain/access.ts';
import { parseIp } from '../domain/cidr.ts';
import type { CustomerPolicy } from '../domain/policy.ts';
import { ERRORS, type ErrorCode } from '../errors.ts';
import type { GatewayContext } from './context.ts';
import type { Conn } from './registry.ts';

export interface Credentials {
  /** cache key: the raw form as received (e.g. the Basic token), unique per (user, pass) */
  key: string;
  username: string;
  password: string;
}

/** Cache key for a decoded username/password pair (SOCKS); the length prefix keeps "a:b"+"c" and "a"+"b:c" apart. */
export function credentialKey(username: string, password: string): string {
  return `${username.length}:${username}:${password}`;
}

function byIp(g: GatewayContext, client: net.Socket): CustomerPolicy | undefined {
  const ip = parseIp(client.remoteAddress ?? '');
  return ip ? g.policies.byIp(ip) : undefined;
}

export async function authenticate(
  g: GatewayContext,
  client: net.Socket,
  creds: Credentials | null,
): Promise<CustomerPolicy | ErrorCode> {
  if (creds) {
    const ip = client.remoteAddress;
    // Refused before the password is looked at: the same answer for every
    // username, known or not, and no scrypt spent on a locked-out guesser.
    if (g.authGuard.locked(ip, creds.username) > 0) return 'PC_ERR_AUTH_LOCKED';
    const p = await g.policies.verify(creds.key, creds.username, creds.password);
    if (p === null) {
      // One live-state call, on failures only: the failure that locks is
      // answered once the lock-out holds, so the next attempt meets it.
      await g.authGuard.failed(ip, creds.username, creds.key);
      return 'PC_ERR_BAD_CREDENTIALS';
    }
    // A burst of guesses passes the first check together; the lock-out their
    // failures set while this one was verified refuses it all the same.
    if (g.authGuard.locked(ip, creds.username) > 0) return 'PC_ERR_AUTH_LOCKED';
    g.authGuard.succeeded(ip, creds.username);
    return p;
  }
  return byIp(g, client) ?? 'PC_ERR_AUTH_REQUIRED';
}

/** The customer whose whitelist holds the client's address, if any. */
export function whitelisted(g: GatewayContext, client: net.Socket): CustomerPolicy | undefined {
  return byIp(g, client);
}

/**
 * Admits one client connection: a Conn holding a thread, released when the
 * client socket closes (registry.close), or the refusal code.
 */
export async function admit(
  g: GatewayContext,
  policy: CustomerPolicy,
  client: net.Socket,
  port: number,
  target: string,
): Promise<Conn | ErrorCode> {
  const now = g.now();
  const code = checkAccess(policy, now, await g.live.lockedUntil(policy.customerId));
  if (code) return code;
  // Quota, per-IP, requests/s, start-on-first-use (limits/); no await when none applies.
  const limited = g.limits.admit(policy, client, now);
  const refused = limited === null ? null : await limited;
  if (refused) return refused;
  const held = await g.live.acquireThread(policy.customerId, threadCap(policy));
  if (held < 0) {
    g.limits.cancel(policy, client);
    return 'PC_ERR_THREADS_EXCEEDED';
  }
  g.strike.acquired(policy, held);
  if (client.destroyed) {
    // The client left while we were asking: give the slot straight back.
    g.live.releaseThread(policy.customerId);
    g.limits.cancel(policy, client);
    return 'PC_ERR_INTERNAL';
  }
  const conn = g.registry.open(policy, client, port, target, '');
  // Admitted: the plan's caps hold it from here, not the handshake cap.
  g.handshakes.leave(client);
  g.limits.attach(conn);
  client.once('close', () => g.registry.close(conn));
  return conn;
}

/** One structured line per refusal, with the catalog code. */
export function logRefusal(
  g: GatewayContext,
  code: ErrorCode,
  client: net.Socket,
  port: number,
  extra?: { username?: string; target?: string; detail?: string; protocol?: string },
): void {
  g.log.info(
    {
      code,
      reason: ERRORS[code].reason,
      client: client.remoteAddress,
      port,
      ...extra,
    },
    'refused',
  );
}
