// What a repository needs to run queries: the database or a transaction.
// Repositories take this so a service can run several of them in one transaction.
import type { Db } from '../db.ts';

export type Q = Pick<Db, 'select' | 'insert' | 'update' | 'delete' | 'execute'>;

export function toDate(v: Date | string | number | null | undefined): Date | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v : new Date(v);
}
