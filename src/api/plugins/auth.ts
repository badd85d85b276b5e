// Authentication hooks. Admin: bearer token, SHA-256 looked up in the store;
// scopes are "admin" (everything) and "read" (GET/HEAD only). Customer: API
// key as bearer token (SHA-256, unique index) or HTTP Basic username:password
// (scrypt, with a small cache of verified pairs so a script polling its list
// does not pay ~50 ms of scrypt per request), or a portal session token
// (pcs_..., bearer; SHA-256 looked up in the store, see repos/sessions.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PcError } from '../../errors.ts';
import type { CustomerWithPlan } from '../../store/repos/customers.ts';
import type { Repos } from '../../store/repos/index.ts';
import { sha256, verifyPassword, verifyUnknown } from '../../store/secrets.ts';
import { type ChangeFeed, createTtlCache } from '../services/change-feed.ts';

export interface AdminPrincipal {
  id: number;
  name: string;
  scopes: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    admin?: AdminPrincipal;
    customer?: CustomerWithPlan;
  }
}

export const SCOPES = ['admin', 'read'] as const;

function bearer(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : null;
}

function basic(request: FastifyRequest): { username: string; password: string } | null {
  const h = request.headers.authorization;
  const m = h ? /^Basic\s+(\S+)\s*$/i.exec(h) : null;
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? null : { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function createAdminAuth(repos: Repos, now: () => number) {
  const lastTouch = new Map<number, number>();
  return async function adminAuth(request: FastifyRequest, _reply: FastifyReply) {
    const token = bearer(request);
    if (!token)
      throw new PcError('PC_ERR_UNAUTHORIZED', 'missing bearer token (Authorization: Bearer pca_...)');
    const row = await repos.adminTokens.byHash(sha256(token));
    const t = now();
    if (!row) throw new PcError('PC_ERR_UNAUTHORIZED', 'unknown token');
    if (row.revokedAt) throw new PcError('PC_ERR_UNAUTHORIZED', 'token was revoked');
    if (row.expiresAt && row.expiresAt.getTime() <= t)
      throw new PcError('PC_ERR_UNAUTHORIZED', 'token expired');
    const readOnly = request.method === 'GET' || request.method === 'HEAD';
    const scopes = row.scopes ?? [];
    if (!scopes.includes('admin') && !(readOnly && scopes.includes('read')))
      throw new PcError(
        'PC_ERR_FORBIDDEN',
        `token "${row.name}" has scopes [${scopes.join(', ')}]; ${request.method} needs ${readOnly ? '"read" or "admin"' : '"admin"'}`,
      );
    request.admin = { id: row.id, name: row.name, scopes };
    // last_used_at is informative; write it at most once a minute per token.
    if (t - (lastTouch.get(row.id) ?? 0) > 60_000) {
      lastTouch.set(row.id, t);
      await repos.adminTokens.touch(row.id, new Date(t));
    }
  };
}

export function createCustomerAuth(repos: Repos, changes: ChangeFeed, now: () => number) {
  const verified = new Map<string, string>(); // sha256(user\0pass) -> password hash it matched
  // API key → customer for 10 s (a safety net for a lost event), dropped on any customer or plan change (local
  // changes first, see change-feed.ts): /api/proxies.php is polled by scripts,
  // and this turns most polls into zero store queries.
  const byKey = createTtlCache<string, CustomerWithPlan>(10_000, 50_000, now);
  changes.on((e) => {
    if (e.type === 'customer' || e.type === 'plan') byKey.clear();
  });
  async function byPassword(username: string, password: string): Promise<CustomerWithPlan | undefined> {
    const c = await repos.customers.byUsername(username);
    if (!c) {
      await verifyUnknown(password); // as long as a wrong password takes: no timing oracle for usernames
      return undefined;
    }
    const key = sha256(`${username}\0${password}`);
    if (verified.get(key) === c.customer.passwordHash) return c;
    if (!(await verifyPassword(password, c.customer.passwordHash))) return undefined;
    if (verified.size >= 10_000) verified.clear();
    verified.set(key, c.customer.passwordHash);
    return c;
  }
  async function byApiKey(key: string): Promise<CustomerWithPlan | undefined> {
    const hash = sha256(key);
    const hit = byKey.get(hash);
    if (hit) return hit;
    const c = await repos.customers.byApiKeyHash(hash);
    if (c) byKey.set(hash, c);
    return c;
  }
  /** A portal session (pcs_...): unexpired and issued under the customer's current password. */
  async function bySession(token: string): Promise<CustomerWithPlan | undefined> {
    const s = await repos.sessions.byHash(sha256(token));
    if (!s || s.expiresAt.getTime() <= now()) return undefined;
    const c = await repos.customers.byId(s.customerId);
    return c && sha256(c.customer.passwordHash) === s.passwordFp ? c : undefined;
  }
  return {
    byPassword,
    byApiKey,
    bySession,
    async hook(request: FastifyRequest, _reply: FastifyReply) {
      const key = bearer(request);
      const b = key ? null : basic(request);
      if (!key && !b)
        throw new PcError(
          'PC_ERR_UNAUTHORIZED',
          'missing credentials (Authorization: Bearer <api key> or Basic)',
        );
      const session = key?.startsWith('pcs_') ?? false;
      const c = key
        ? await (session ? bySession(key) : byApiKey(key))
        : await byPassword(b!.username, b!.password);
      if (!c)
        throw new PcError(
          'PC_ERR_UNAUTHORIZED',
          session
            ? 'session expired or signed out; sign in again'
            : key
              ? 'unknown API key'
              : 'wrong username or password',
        );
      request.customer = c;
    },
  };
}
