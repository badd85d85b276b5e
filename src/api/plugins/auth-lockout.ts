// Credential lock-out on the API (security/auth-guard.ts; docs/security.md),
// as hooks around the routes rather than inside each authentication path:
//
// - An attempt is the credentials a request presents: the Authorization
//   header (admin token, API key, session token: the address only; Basic:
//   the address and the username), `api_key` or `username`+`password` on
//   /api/proxies.php, the body of the portal sign-in (POST /api/v1/me/session).
// - Checked before anything looks at them (onRequest; preValidation for the
//   sign-in body): a locked-out attempt gets 429 PC_ERR_AUTH_LOCKED with
//   Retry-After, the same for every username, known or not.
// - Counted before the answer leaves (onSend), so the failure that locks is
//   answered once the lock-out holds: a 401 is a failure; Basic on a route
//   that does not take Basic (an admin route) is not a guess and does not
//   count. A sign-in that succeeded makes the address trusted for that
//   username (its lock-out does not refuse them there).
// - An address on a customer's whitelist is never refused for an address
//   lock-out; the whitelist is read from the store only when the address is
//   locked, and kept until a customer changes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import { CidrMap, parseCidr, parseIp } from '../../domain/cidr.ts';
import { ERRORS } from '../../errors.ts';
import type { LiveState } from '../../live/live.ts';
import { type AuthGuard, authRule, createAuthGuard } from '../../security/auth-guard.ts';
import type { Repos } from '../../store/repos/index.ts';
import { sha256 } from '../../store/secrets.ts';
import type { ChangeFeed } from '../services/change-feed.ts';
import { sendError } from './errors.ts';

interface Attempt {
  username: string | null;
  /** what identifies the credential, so a repeat counts once */
  secret: string;
  /** where it came from: Basic counts only on routes that take Basic; the query form answers in its own shape */
  form: 'bearer' | 'basic' | 'query' | 'body';
}

export interface AuthLockoutOptions {
  config: Readonly<Config>;
  live: LiveState;
  repos: Repos;
  changes: ChangeFeed;
  log: Logger;
  now: () => number;
}

const SIGN_IN = '/api/v1/me/session';
const PROXIES_PHP = '/api/proxies.php';

function fromHeaderOrQuery(request: FastifyRequest): Attempt | null {
  const h = request.headers.authorization;
  if (h) {
    const basic = /^Basic\s+(\S+)\s*$/i.exec(h);
    if (basic) {
      const text = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = text.indexOf(':');
      return { username: colon < 0 ? null : text.slice(0, colon), secret: h, form: 'basic' };
    }
    return /^Bearer\s+\S+\s*$/i.test(h) ? { username: null, secret: h, form: 'bearer' } : null;
  }
  if (request.url.startsWith(PROXIES_PHP)) {
    const q = request.query as Record<string, unknown>;
    if (typeof q.api_key === 'string' && q.api_key !== '')
      return { username: null, secret: `k:${q.api_key}`, form: 'query' };
    if (typeof q.username === 'string' && typeof q.password === 'string')
      return { username: q.username, secret: `p:${q.username}\0${q.password}`, form: 'query' };
  }
  return null;
}

function takesBasic(request: FastifyRequest): boolean {
  const security = (request.routeOptions.schema as { security?: Record<string, unknown>[] } | undefined)
    ?.security;
  return security?.some((s) => 'basic' in s) ?? false;
}

/** Registers the hooks on `app` (before the routes) and answers the guard. */
export async function registerAuthLockout(app: FastifyInstance, o: AuthLockoutOptions): Promise<AuthGuard> {
  const guard = createAuthGuard({
    live: o.live,
    rule: authRule(o.config.authLockout),
    source: 'api',
    write: o.repos.securityEvents.recordMany,
    log: o.log,
    now: o.now,
  });
  await guard.start();
  app.addHook('onClose', () => guard.stop());
  if (!guard.enabled) return guard;

  let whitelist: Promise<CidrMap<true>> | null = null;
  o.changes.on((e) => {
    if (e.type === 'customer') whitelist = null;
  });
  async function whitelisted(ipText: string): Promise<boolean> {
    const ip = parseIp(ipText);
    if (!ip) return false;
    whitelist ??= o.repos.customers.allIps().then((rows) => {
      const m = new CidrMap<true>();
      for (const r of rows) {
        const c = parseCidr(r.cidr);
        if (c) m.set(c, true);
      }
      return m;
    });
    const p = whitelist;
    p.catch(() => {
      if (whitelist === p) whitelist = null;
    });
    return (await p).lookup(ip) !== undefined;
  }

  const attempts = new WeakMap<FastifyRequest, Attempt>();

  async function refuseIfLocked(request: FastifyRequest, reply: FastifyReply, a: Attempt) {
    attempts.set(request, a);
    const ip = request.ip;
    let until = a.username !== null ? guard.usernameLocked(a.username, ip) : 0;
    const byAddress = guard.addressLocked(ip);
    if (byAddress > until && !(await whitelisted(ip))) until = byAddress;
    if (until === 0) return;
    const retry = Math.max(1, Math.ceil((until - o.now()) / 1000));
    reply.header('retry-after', retry);
    if (a.form === 'query')
      return reply.code(429).send({ status: 'inactive', reason: ERRORS.PC_ERR_AUTH_LOCKED.reason });
    return sendError(
      reply,
      'PC_ERR_AUTH_LOCKED',
      `too many failed sign-in attempts from this address or for this username; retry in ${retry} s`,
    );
  }

  app.addHook('onRequest', async (request, reply) => {
    const a = fromHeaderOrQuery(request);
    if (a) return refuseIfLocked(request, reply, a);
  });

  app.addHook('preValidation', async (request, reply) => {
    if (request.method !== 'POST' || request.routeOptions.url !== SIGN_IN) return;
    const b = request.body as { username?: unknown; password?: unknown } | undefined;
    if (typeof b?.username !== 'string' || typeof b.password !== 'string') return;
    return refuseIfLocked(request, reply, {
      username: b.username,
      secret: `s:${sha256(`${b.username}\0${b.password}`)}`,
      form: 'body',
    });
  });

  app.addHook('onSend', async (request, reply) => {
    const a = attempts.get(request);
    if (!a) return;
    const status = reply.statusCode;
    if (status === 401) {
      if (a.form === 'basic' && !takesBasic(request)) return;
      await guard.failed(request.ip, a.username, a.secret, 'api');
      return;
    }
    if (a.username === null) return;
    // Accepted: the hook set request.customer (header), or the query/sign-in
    // route answered (2xx, or 403 for a customer it refuses: the password was right).
    const ok =
      a.form === 'basic'
        ? request.customer?.customer.username === a.username
        : (status >= 200 && status < 300) || status === 403;
    if (ok) guard.succeeded(request.ip, a.username);
  });
  return guard;
}
