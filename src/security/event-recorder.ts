// Security events written in batches, so a flood of failed sign-ins cannot
// turn into a flood of database writes: failures are summed per client
// address and written once per flush (default every 10 s) as one
// `auth_failures` row each; other events (lock-outs) are queued as they are.
// One multi-row insert per flush, at most `maxRows` rows: addresses beyond
// that are summed into one row without an address, further events are
// counted and dropped (with a warning). A failed write is logged and dropped;
// the log line of every refusal is still there.
import type { Logger } from 'pino';
import type { SecurityEventInsert } from '../store/repos/events.ts';

export interface SecurityRecorder {
  /** One failed sign-in, summed per address until the next flush. */
  failure(ip: string | undefined, username: string | null, source: string, protocol?: string): void;
  /** One event as is (queued). */
  add(row: SecurityEventInsert): void;
  flush(): Promise<void>;
  stop(): void;
}

export interface RecorderOptions {
  write: (rows: SecurityEventInsert[]) => Promise<void>;
  log: Logger;
  now?: () => number;
  flushMs?: number;
  /** rows per flush at most; default 100 */
  maxRows?: number;
}

interface Tally {
  at: number;
  count: number;
  source: string;
  usernames: Set<string>;
  protocols: Set<string>;
}

const USERNAMES_KEPT = 5;

/**
 * PostgreSQL text and jsonb hold neither NUL nor a lone surrogate, and one
 * such string fails the whole insert: a client-chosen username (SOCKS5 bytes)
 * must not be able to drop a batch of security events.
 */
function storable(v: unknown): unknown {
  if (typeof v === 'string') return v.toWellFormed().replaceAll('\u0000', '\ufffd');
  if (Array.isArray(v)) return v.map(storable);
  if (v !== null && typeof v === 'object' && !(v instanceof Date))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [storable(k), storable(x)]));
  return v;
}

export function createSecurityRecorder(o: RecorderOptions): SecurityRecorder {
  const now = o.now ?? Date.now;
  const maxRows = o.maxRows ?? 100;
  let tallies = new Map<string, Tally>();
  /** failures from addresses that found no row left in this batch */
  let others = { count: 0, source: '' };
  let queue: SecurityEventInsert[] = [];
  let dropped = 0;
  let writing: Promise<void> = Promise.resolve();

  function takeRows(): SecurityEventInsert[] {
    const rows = queue;
    for (const [ip, t] of tallies)
      rows.push({
        kind: 'auth_failures',
        ip: ip === '' ? null : ip,
        at: new Date(t.at),
        detail: {
          source: t.source,
          count: t.count,
          usernames: [...t.usernames],
          protocols: [...t.protocols],
        },
      });
    if (others.count > 0)
      rows.push({
        kind: 'auth_failures',
        ip: null,
        at: new Date(now()),
        detail: {
          source: others.source,
          count: others.count,
          note: `more client addresses than one batch of ${maxRows} rows records`,
        },
      });
    for (let i = 0; i < rows.length; i++) rows[i] = storable(rows[i]) as SecurityEventInsert;
    queue = [];
    tallies = new Map();
    others = { count: 0, source: '' };
    return rows;
  }

  function flush(): Promise<void> {
    const rows = takeRows();
    const lost = dropped;
    dropped = 0;
    if (lost > 0) o.log.warn({ dropped: lost }, 'security events dropped: more than one batch holds');
    if (rows.length === 0) return writing;
    writing = writing
      .then(() => o.write(rows))
      .catch((err: unknown) => o.log.warn({ err, rows: rows.length }, 'security events not written'));
    return writing;
  }

  const timer = setInterval(() => void flush(), o.flushMs ?? 10_000);
  timer.unref();

  return {
    failure(ip, username, source, protocol) {
      const k = ip ?? '';
      let t = tallies.get(k);
      if (t === undefined) {
        if (tallies.size + queue.length >= maxRows - 1) {
          others.count++;
          others.source = source;
          return;
        }
        t = { at: now(), count: 0, source, usernames: new Set(), protocols: new Set() };
        tallies.set(k, t);
      }
      t.count++;
      if (username !== null && t.usernames.size < USERNAMES_KEPT) t.usernames.add(username.slice(0, 64));
      if (protocol !== undefined) t.protocols.add(protocol);
    },
    add(row) {
      if (tallies.size + queue.length >= maxRows - 1) {
        dropped++;
        return;
      }
      queue.push(row);
    },
    flush,
    stop() {
      clearInterval(timer);
    },
  };
}
