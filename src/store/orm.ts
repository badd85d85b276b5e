// drizzle-orm, loaded through its CommonJS build. Same package, same code,
// same types: only the loader differs. Node's ESM loader looks up the package
// scope of each of the ~100 modules the store pulls in from it, and for
// drizzle-orm that means deserialising its 179 KB package.json (447 exports)
// again every time: 1.1-1.3 s of every start-up on this 2-core machine, most
// of what stood between a SIGKILLed gateway and its ports coming back. The
// CommonJS build loads in 0.24 s. Import drizzle and PGlite from here, types
// too (re-exported at the end): biome.json refuses direct imports.
import { createRequire } from 'node:module';

// drizzle-kit evaluates schema.ts as CommonJS, where `require` already exists.
const load: NodeJS.Require = typeof require === 'function' ? require : createRequire(import.meta.url);

const core = load('drizzle-orm') as typeof import('drizzle-orm');
export const { and, asc, count, desc, eq, gte, ilike, inArray, isNull, lt, lte, notInArray, sql } = core;

const pg = load('drizzle-orm/pg-core') as typeof import('drizzle-orm/pg-core');
export const {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
} = pg;

export const drizzlePg = (load('drizzle-orm/node-postgres') as typeof import('drizzle-orm/node-postgres'))
  .drizzle;
export const migratePg = (
  load('drizzle-orm/node-postgres/migrator') as typeof import('drizzle-orm/node-postgres/migrator')
).migrate;
export const drizzlePglite = (load('drizzle-orm/pglite') as typeof import('drizzle-orm/pglite')).drizzle;
export const migratePglite = (
  load('drizzle-orm/pglite/migrator') as typeof import('drizzle-orm/pglite/migrator')
).migrate;
// The PGlite class of the same (CommonJS) build drizzle-orm/pglite requires: one copy loaded, not two.
export const { PGlite } = load('@electric-sql/pglite') as typeof import('@electric-sql/pglite');

export type { SQL } from 'drizzle-orm';
export type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
