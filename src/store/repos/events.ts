// Audit events (who changed what, from where) and security events (refusals
// worth an operator's eye: lock-outs, brute force). Append-only.
import { desc, lt } from '../orm.ts';
import { auditEvents, securityEvents } from '../schema.ts';
import type { Q } from './types.ts';

export type AuditRow = typeof auditEvents.$inferSelect;
export type AuditInsert = typeof auditEvents.$inferInsert;
export type SecurityEventRow = typeof securityEvents.$inferSelect;
export type SecurityEventInsert = typeof securityEvents.$inferInsert;

export function createAuditRepo(db: Q) {
  return {
    async record(e: AuditInsert): Promise<void> {
      await db.insert(auditEvents).values(e);
    },
    /** Newest first; `before` is an id for paging backwards. */
    async list(limit: number, before?: number): Promise<AuditRow[]> {
      return db
        .select()
        .from(auditEvents)
        .where(before !== undefined ? lt(auditEvents.id, before) : undefined)
        .orderBy(desc(auditEvents.id))
        .limit(limit);
    },
  };
}

export function createSecurityEventsRepo(db: Q) {
  return {
    async record(e: SecurityEventInsert): Promise<void> {
      await db.insert(securityEvents).values(e);
    },
    /** One insert for a batch (security/event-recorder.ts). */
    async recordMany(rows: SecurityEventInsert[]): Promise<void> {
      if (rows.length > 0) await db.insert(securityEvents).values(rows);
    },
    async list(limit: number, before?: number): Promise<SecurityEventRow[]> {
      return db
        .select()
        .from(securityEvents)
        .where(before !== undefined ? lt(securityEvents.id, before) : undefined)
        .orderBy(desc(securityEvents.id))
        .limit(limit);
    },
  };
}

export type AuditRepo = ReturnType<typeof createAuditRepo>;
export type SecurityEventsRepo = ReturnType<typeof createSecurityEventsRepo>;
