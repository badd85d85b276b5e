// Customer rules: unknown plan → 404 naming it; duplicate username → 409;
// passwords hashed with scrypt; the API key is returned once and stored as
// SHA-256 with a visible prefix; expiry defaults to now + plan.durationDays.
// Every change publishes {type:'customer'} so gateways reload within 1 s.
import { type Cidr, cidrContains, parseCidr } from '../../domain/cidr.ts';
import { PcError } from '../../errors.ts';
import type { CustomerInsert, CustomerIpRow, CustomerWithPlan } from '../../store/repos/customers.ts';
import { generatePassword, hashPassword, newSecret } from '../../store/secrets.ts';
import { isUniqueViolation, type ServiceContext } from './context.ts';

const DAY_MS = 86_400_000;

export interface CreateCustomerInput {
  username: string;
  password?: string;
  plan: string;
  expiresAt?: string | null;
  startOnFirstUse?: boolean;
}

export interface UpdateCustomerInput {
  plan?: string;
  password?: string;
  expiresAt?: string | null;
  status?: 'active' | 'disabled' | 'banned';
  startOnFirstUse?: boolean;
  regenerateApiKey?: boolean;
}

export function canonicalCidr(text: string, field = 'cidr'): string {
  const c = parseCidr(text);
  if (!c)
    throw new PcError(
      'PC_ERR_VALIDATION',
      `"${text}" is not an IPv4/IPv6 address or CIDR with zero host bits`,
      {
        fields: [{ field, problem: 'must be an IPv4/IPv6 address or CIDR block (host bits zero)' }],
      },
    );
  return c.text;
}

/** True when the two blocks share an address (one contains the other's network). */
function overlaps(a: Cidr, b: Cidr): boolean {
  return (
    a.version === b.version &&
    (cidrContains(a, { version: b.version, value: b.network }) ||
      cidrContains(b, { version: a.version, value: a.network }))
  );
}

export function createCustomerService(ctx: ServiceContext) {
  const { repos, now } = ctx;

  async function plan(name: string) {
    const p = await repos.plans.byName(name);
    if (!p) throw new PcError('PC_ERR_NOT_FOUND', `plan "${name}" does not exist`);
    return p;
  }

  async function get(username: string): Promise<CustomerWithPlan> {
    const c = await repos.customers.byUsername(username);
    if (!c) throw new PcError('PC_ERR_NOT_FOUND', `customer "${username}" does not exist`);
    return c;
  }

  const changed = (customerId: number) => ctx.changes.publish({ type: 'customer', customerId });

  async function update(id: number, values: Partial<CustomerInsert>) {
    const row = await repos.customers.update(id, values);
    if (!row) throw new PcError('PC_ERR_NOT_FOUND', 'customer does not exist');
    await changed(id);
    return row;
  }

  return {
    get,
    async create(input: CreateCustomerInput) {
      const p = await plan(input.plan);
      const password = input.password ?? generatePassword();
      const key = newSecret('pck');
      let expiresAt: Date | null = null;
      if (input.expiresAt) expiresAt = new Date(input.expiresAt);
      else if (input.expiresAt === undefined && p.durationDays && !input.startOnFirstUse)
        expiresAt = new Date(now() + p.durationDays * DAY_MS);
      try {
        const customer = await repos.customers.create({
          username: input.username,
          passwordHash: await hashPassword(password),
          apiKeyHash: key.hash,
          apiKeyPrefix: key.display,
          planId: p.id,
          expiresAt,
          startOnFirstUse: input.startOnFirstUse ?? false,
          periodAnchor: new Date(now()),
        });
        await changed(customer.id);
        return {
          customer,
          plan: p,
          apiKey: key.value,
          password: input.password === undefined ? password : undefined,
        };
      } catch (err) {
        if (isUniqueViolation(err))
          throw new PcError('PC_ERR_CONFLICT', `customer "${input.username}" already exists`);
        throw err;
      }
    },

    async update(username: string, input: UpdateCustomerInput) {
      const { customer } = await get(username);
      const values: Partial<CustomerInsert> = {};
      if (input.plan !== undefined) values.planId = (await plan(input.plan)).id;
      if (input.password !== undefined) values.passwordHash = await hashPassword(input.password);
      if (input.expiresAt !== undefined)
        values.expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
      if (input.startOnFirstUse !== undefined) values.startOnFirstUse = input.startOnFirstUse;
      if (input.status !== undefined) {
        values.status = input.status;
        if (input.status !== 'banned') {
          values.banReason = null;
          values.bannedUntil = null;
        }
      }
      let apiKey: string | undefined;
      if (input.regenerateApiKey) {
        const key = newSecret('pck');
        values.apiKeyHash = key.hash;
        values.apiKeyPrefix = key.display;
        apiKey = key.value;
      }
      await update(customer.id, values);
      if (input.status === 'disabled' || input.status === 'banned')
        await ctx.changes.publish({ type: 'kick', customerId: customer.id, reason: input.status });
      return { ...(await get(username)), apiKey };
    },

    async remove(username: string) {
      const { customer } = await get(username);
      await repos.customers.delete(customer.id);
      await ctx.changes.publish({ type: 'kick', customerId: customer.id, reason: 'deleted' });
      await changed(customer.id);
    },

    async ban(username: string, reason: string | undefined, until: string | undefined) {
      const { customer } = await get(username);
      if (until && new Date(until).getTime() <= now())
        throw new PcError('PC_ERR_VALIDATION', '"until" must be in the future', {
          fields: [{ field: 'until', problem: 'must be in the future' }],
        });
      await update(customer.id, {
        status: 'banned',
        banReason: reason ?? null,
        bannedUntil: until ? new Date(until) : null,
      });
      await ctx.changes.publish({ type: 'kick', customerId: customer.id, reason: 'banned' });
      return get(username);
    },

    async unban(username: string) {
      const { customer } = await get(username);
      await update(customer.id, { status: 'active', banReason: null, bannedUntil: null });
      return get(username);
    },

    async kick(username: string) {
      const { customer } = await get(username);
      await ctx.changes.publish({ type: 'kick', customerId: customer.id, reason: 'admin' });
      return customer;
    },

    /** Whitelists an address or block; idempotent for the same owner, 409 for another. */
    async addIp(
      customerId: number,
      cidrText: string,
      note?: string,
      expiresAt?: string | null,
      opts: { exclusive?: boolean } = {},
    ): Promise<CustomerIpRow> {
      const cidr = canonicalCidr(cidrText);
      const owner = await repos.customers.ipOwner(cidr);
      if (owner && owner.customerId !== customerId)
        throw new PcError('PC_ERR_CONFLICT', `${cidr} is already whitelisted for another customer`);
      if (opts.exclusive) {
        // Self-service: the most specific whitelist entry wins a client address,
        // so a block inside (or around) another customer's would take over
        // their IP-authenticated connections. Only the operator may overlap.
        const mine = parseCidr(cidr)!;
        for (const row of await repos.customers.allIps()) {
          const other = row.customerId === customerId ? null : parseCidr(row.cidr);
          if (other && overlaps(mine, other))
            throw new PcError(
              'PC_ERR_CONFLICT',
              `${cidr} overlaps an address block whitelisted for another customer`,
            );
        }
      }
      if (owner) return owner;
      try {
        const row = await repos.customers.addIp({
          customerId,
          cidr,
          note: note ?? null,
          expiresAt: expiresAt ? new Date(expiresAt) : null,
        });
        await changed(customerId);
        return row;
      } catch (err) {
        if (isUniqueViolation(err)) throw new PcError('PC_ERR_CONFLICT', `${cidr} is already whitelisted`);
        throw err;
      }
    },

    async removeIp(customerId: number, cidrText: string): Promise<string> {
      const cidr = canonicalCidr(cidrText);
      if (!(await repos.customers.removeIp(customerId, cidr)))
        throw new PcError('PC_ERR_NOT_FOUND', `${cidr} is not whitelisted for this customer`);
      await changed(customerId);
      return cidr;
    },
  };
}

export type CustomerService = ReturnType<typeof createCustomerService>;
