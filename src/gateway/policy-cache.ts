// Customer policies compiled into lookup maps: by username, and a CidrMap of
// whitelisted client addresses. Per connection the gateway only looks up.
//
// Passwords are scrypt hashes (~50 ms each), so a verification is never done
// per connection: a successful "user:pass" is remembered until that customer
// changes, and a failure is remembered briefly, so repeating a wrong password
// cannot be used to burn CPU. Concurrent first attempts share one scrypt.
import { CidrMap, type Ip, parseCidr } from '../domain/cidr.ts';
import type { CustomerPolicy } from '../domain/policy.ts';
import type { LoadedCustomer } from '../store/repos/policies.ts';
import { verifyPassword, verifyUnknown } from '../store/secrets.ts';
import type { GatewaySource } from './source.ts';

const FAIL_TTL_MS = 5_000;
const MAX_FAILS = 10_000;

export interface PolicyCache {
  loadAll(): Promise<void>;
  reloadCustomers(ids: number[]): Promise<void>;
  reloadPlan(planId: number): Promise<void>;
  get(customerId: number): CustomerPolicy | undefined;
  byIp(ip: Ip): CustomerPolicy | undefined;
  /** Sync hit for a remembered credential: the policy, null (known bad), or undefined (not cached). */
  cached(key: string): CustomerPolicy | null | undefined;
  /** `key` identifies the credential form (e.g. the raw Basic token) for the cache. */
  verify(key: string, username: string, password: string): Promise<CustomerPolicy | null>;
  readonly size: number;
}

export function createPolicyCache({
  source,
}: {
  source: Pick<GatewaySource, 'customers' | 'customerIdsOfPlan'>;
}): PolicyCache {
  const byId = new Map<number, CustomerPolicy>();
  const byName = new Map<string, CustomerPolicy>();
  const cidrsById = new Map<number, string[]>();
  let ipMap = new CidrMap<CustomerPolicy>();
  /** credential key -> customer id, and the keys each customer owns (for invalidation) */
  const good = new Map<string, number>();
  const goodKeys = new Map<number, Set<string>>();
  const bad = new Map<string, number>();
  const inflight = new Map<string, Promise<CustomerPolicy | null>>();
  /** bumped on every reload so a verification started before a change is not cached after it */
  let generation = 0;

  function forget(id: number): void {
    const keys = goodKeys.get(id);
    if (keys) for (const k of keys) good.delete(k);
    goodKeys.delete(id);
    const old = byId.get(id);
    if (old) byName.delete(old.username);
    byId.delete(id);
    cidrsById.delete(id);
  }

  function install(c: LoadedCustomer): void {
    byId.set(c.policy.customerId, c.policy);
    byName.set(c.policy.username, c.policy);
    cidrsById.set(c.policy.customerId, c.cidrs);
  }

  // Whitelists change rarely; rebuilding the whole map keeps CidrMap simple
  // (it has no delete) and costs well under a millisecond per thousand entries.
  function rebuildIps(): void {
    const m = new CidrMap<CustomerPolicy>();
    for (const [id, list] of cidrsById) {
      const p = byId.get(id)!;
      for (const text of list) {
        const c = parseCidr(text);
        if (c) m.set(c, p);
      }
    }
    ipMap = m;
  }

  const cache: PolicyCache = {
    async loadAll() {
      const all = await source.customers();
      generation++;
      byId.clear();
      byName.clear();
      cidrsById.clear();
      good.clear();
      goodKeys.clear();
      bad.clear();
      for (const c of all) install(c);
      rebuildIps();
    },
    async reloadCustomers(ids) {
      const loaded = await source.customers(ids);
      generation++;
      for (const id of ids) forget(id);
      for (const c of loaded) install(c);
      // A new customer or password can turn a remembered failure into a success.
      bad.clear();
      rebuildIps();
    },
    async reloadPlan(planId) {
      await this.reloadCustomers(await source.customerIdsOfPlan(planId));
    },
    get: (id) => byId.get(id),
    byIp: (ip) => ipMap.lookup(ip),
    cached(key) {
      const id = good.get(key);
      if (id !== undefined) return byId.get(id);
      const until = bad.get(key);
      if (until !== undefined) {
        if (until > Date.now()) return null;
        bad.delete(key);
      }
      return undefined;
    },
    verify(key, username, password) {
      const hit = this.cached(key);
      if (hit !== undefined) return Promise.resolve(hit);
      const p = byName.get(username);
      let pending = inflight.get(key);
      if (pending) return pending;
      if (!p) {
        // As long as a wrong password takes (no timing oracle for usernames);
        // remembered briefly, like any failure, unless the policies were
        // reloaded meanwhile: the name may exist now (a customer just created).
        const gen = generation;
        pending = verifyUnknown(password).then(() => {
          inflight.delete(key);
          if (gen !== generation) return cache.verify(key, username, password);
          if (bad.size >= MAX_FAILS) bad.clear();
          bad.set(key, Date.now() + FAIL_TTL_MS);
          return null;
        });
        inflight.set(key, pending);
        return pending;
      }
      const gen = generation;
      pending = verifyPassword(password, p.passwordHash)
        .catch(() => false)
        .then((ok) => {
          inflight.delete(key);
          if (gen !== generation) {
            // The customer may have changed meanwhile: answer from the new policy, cache nothing.
            const now = byName.get(username);
            return ok && now?.passwordHash === p.passwordHash ? now : null;
          }
          if (!ok) {
            if (bad.size >= MAX_FAILS) bad.clear();
            bad.set(key, Date.now() + FAIL_TTL_MS);
            return null;
          }
          good.set(key, p.customerId);
          let keys = goodKeys.get(p.customerId);
          if (!keys) {
            keys = new Set();
            goodKeys.set(p.customerId, keys);
          }
          keys.add(key);
          return p;
        });
      inflight.set(key, pending);
      return pending;
    },
    get size() {
      return byId.size;
    },
  };
  return cache;
}
