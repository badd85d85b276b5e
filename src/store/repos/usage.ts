// Hourly usage buckets. Enforcement points count in live state and hand the
// drained deltas here at most once a second; the upsert adds to the bucket so
// several processes (and RADIUS accounting) can report into the same hour.

import type { UsageDelta } from '../../live/live.ts';
import { and, eq, gte, lt, sql } from '../orm.ts';
import { usageHourly } from '../schema.ts';
import type { Q } from './types.ts';

const BATCH = 500;

export interface UsageSum {
  bytesUp: number;
  bytesDown: number;
  connections: number;
  requests: number;
}

/** Deltas of the same customer and hour summed into one (the input is not changed). */
export function mergeDeltas(deltas: UsageDelta[]): UsageDelta[] {
  const byKey = new Map<string, UsageDelta>();
  for (const d of deltas) {
    const k = `${d.customerId}:${d.hour}`;
    const m = byKey.get(k);
    if (m === undefined) byKey.set(k, { ...d });
    else {
      m.bytesUp += d.bytesUp;
      m.bytesDown += d.bytesDown;
      m.connections += d.connections;
      m.requests += d.requests;
    }
  }
  return byKey.size === deltas.length ? deltas : [...byKey.values()];
}

export function createUsageRepo(db: Q) {
  return {
    async add(input: UsageDelta[]): Promise<void> {
      // One INSERT ... ON CONFLICT may not touch a row twice: sum deltas of
      // the same customer and hour first (a retry after a failed write hands
      // over the kept deltas and the new ones together).
      const deltas = mergeDeltas(input);
      for (let i = 0; i < deltas.length; i += BATCH) {
        const rows = deltas.slice(i, i + BATCH).map((d) => ({
          customerId: d.customerId,
          hour: new Date(d.hour),
          bytesUp: d.bytesUp,
          bytesDown: d.bytesDown,
          connections: d.connections,
          requests: d.requests,
        }));
        await db
          .insert(usageHourly)
          .values(rows)
          .onConflictDoUpdate({
            target: [usageHourly.customerId, usageHourly.hour],
            set: {
              bytesUp: sql`${usageHourly.bytesUp} + excluded.bytes_up`,
              bytesDown: sql`${usageHourly.bytesDown} + excluded.bytes_down`,
              connections: sql`${usageHourly.connections} + excluded.connections`,
              requests: sql`${usageHourly.requests} + excluded.requests`,
            },
          });
      }
    },
    /** Sum of the buckets whose hour starts in [fromMs, toMs); toMs null = open-ended. */
    async sum(customerId: number, fromMs: number, toMs: number | null): Promise<UsageSum> {
      const conds = [eq(usageHourly.customerId, customerId), gte(usageHourly.hour, new Date(fromMs))];
      if (toMs !== null) conds.push(lt(usageHourly.hour, new Date(toMs)));
      const [row] = await db
        .select({
          bytesUp: sql<string>`coalesce(sum(${usageHourly.bytesUp}), 0)`,
          bytesDown: sql<string>`coalesce(sum(${usageHourly.bytesDown}), 0)`,
          connections: sql<string>`coalesce(sum(${usageHourly.connections}), 0)`,
          requests: sql<string>`coalesce(sum(${usageHourly.requests}), 0)`,
        })
        .from(usageHourly)
        .where(and(...conds));
      return {
        bytesUp: Number(row?.bytesUp ?? 0),
        bytesDown: Number(row?.bytesDown ?? 0),
        connections: Number(row?.connections ?? 0),
        requests: Number(row?.requests ?? 0),
      };
    },
    /** Hourly rows for charts, oldest first. */
    async history(customerId: number, fromMs: number, toMs: number) {
      return db
        .select()
        .from(usageHourly)
        .where(
          and(
            eq(usageHourly.customerId, customerId),
            gte(usageHourly.hour, new Date(fromMs)),
            lt(usageHourly.hour, new Date(toMs)),
          ),
        )
        .orderBy(usageHourly.hour);
    },
  };
}

export type UsageRepo = ReturnType<typeof createUsageRepo>;
