// Live state shared through Redis/Valkey (REDIS_URL): what several gateway
// processes need to enforce one customer's limits as one.
//
// - Threads: exact across processes (atomic Lua over a hash with one field per
//   process); a killed process's slots go away when its liveness key expires.
// - Each process also knows what it holds itself (`held`). That local count is
//   the truth for its own field: when Redis was unreachable, or our field was
//   reaped while we stalled, the field is rewritten from it (reconcile).
// - Customer lock-outs are mirrored in memory (loaded once subscribed to their
//   change channel, kept current by it), so an admission reads its lock-out
//   without a round trip; while the mirror is not known complete (subscriber
//   reconnecting) lockedUntil() asks Redis as before.
// - While Redis is unreachable, calls never hang or throw on the hot path:
//   threads and buckets are enforced per process (the memory implementation),
//   usage keeps accumulating and is flushed exactly once when Redis returns.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis, type RedisOptions } from 'ioredis';
import type { LiveEvent, LiveState, UsageDelta } from './live.ts';
import { createMemoryLive } from './memory.ts';
import { defineScripts } from './redis-scripts.ts';
import { createHourly, createPeriodCounters } from './usage-acc.ts';

export interface LiveLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RedisLiveOptions {
  url: string;
  /** Prepended to every key and the event channel (tests use a random one). Default `pc:`. */
  prefix?: string;
  /** Label of this process in Redis keys (a random suffix is always added); default hostname:pid. */
  processId?: string;
  /** TTL of this process's liveness key (ms); refreshed every TTL/5. Default 5000. */
  heartbeatMs?: number;
  /** How often batched usage is pushed (ms). Default 1000. */
  flushMs?: number;
  log?: LiveLog;
}

export interface RedisLive extends LiveState {
  readonly kind: 'redis';
  readonly processId: string;
  /** Resolves once connected, registered as alive and subscribed; rejects after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
}

const QUOTA_TTL_S = 40 * 86_400;
const silent: LiveLog = { info() {}, warn() {} };

export function createRedisLive(opts: RedisLiveOptions): RedisLive {
  const prefix = opts.prefix ?? 'pc:';
  // Always unique per instance, even when a label is given: a restarted process
  // must neither inherit its predecessor's thread fields nor its flush sequence.
  const pid = `${opts.processId ?? `${hostname()}:${process.pid}`}:${randomBytes(4).toString('hex')}`;
  const heartbeatMs = opts.heartbeatMs ?? 5000;
  const log = opts.log ?? silent;
  const procPrefix = `${prefix}proc:`;
  const procKey = procPrefix + pid;
  const epochKey = `${prefix}epoch`;
  const channel = `${prefix}events`;
  const lockPrefix = `${prefix}lock:`;
  const locksChannel = `${prefix}locks`;
  const authLocksKey = `${prefix}authlocks`;

  const common: RedisOptions = {
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 100, 2000),
    // disconnect() arms a timer (default 2 s) that is never cleared when the
    // socket had already failed, which keeps a stopping process alive; keep it short.
    ...({ disconnectTimeout: 100 } as RedisOptions),
  };
  // Fail fast instead of queueing: a proxy connection must not wait on Redis.
  // Named per process (CLIENT LIST shows which Portcullis process holds which
  // connection); Redis refuses names with spaces or control characters.
  const name = `portcullis:${pid.replace(/[^!-~]/g, '_')}`;
  const client = defineScripts(
    new Redis(opts.url, {
      ...common,
      connectionName: `${name}:cmd`,
      maxRetriesPerRequest: 1,
      // Calls issued in the same tick share one write (bench: ~+30-60% acquire/s at 64 in flight).
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      commandTimeout: 2000,
    }),
  );
  // The subscriber may queue: SUBSCRIBE is sent whenever the connection comes up.
  const sub = new Redis(opts.url, { ...common, connectionName: `${name}:sub`, maxRetriesPerRequest: null });

  const fallback = createMemoryLive();
  /** slots this process holds, per customer (zeros kept while `dirty`, to clear our fields) */
  const held = new Map<number, number>();
  let inflight = 0;
  let dirty = false;
  let reconciling = false;
  let dirtyGen = 0;
  let down = false;
  let closed = false;

  const hourly = createHourly(Date.now);
  const pendingBytes = createPeriodCounters();
  /** the batch being flushed, kept until Redis confirms it (retried with the same sequence) */
  let batch: { seq: number; args: Array<string | number>; bytes: Map<string, number> } | undefined;
  let seq = 0;
  let flushing: Promise<void> | undefined;
  const lastKnown = new Map<string, number>();
  const handlers = new Set<(event: LiveEvent) => void>();
  const producers = new Set<() => void>();
  const resetHandlers = new Set<() => void>();
  /** the epoch key's value last seen; another one means Redis lost its data */
  let epoch: string | undefined;
  /** customer lock-outs (id -> end, ms since epoch) as Redis holds them */
  const locks = new Map<number, number>();
  /** `locks` is complete and kept current: subscribed to locksChannel, then loaded */
  let locksKnown = false;
  /** ids a change message set while the mirror was loading (newer than what the load read) */
  let locksTouched: Set<number> | undefined;

  function degrade(err: unknown): void {
    if (down || closed) return;
    down = true;
    log.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'live state: Redis unreachable, enforcing limits per process until it returns',
    );
  }
  function markDirty(): void {
    dirty = true;
    dirtyGen++;
  }

  client.on('error', degrade);
  client.on('close', () => degrade(new Error('connection closed')));
  client.on('ready', () => {
    if (down) log.info({}, 'live state: Redis is back, reconciling');
    down = false;
    beat().catch(degrade);
    // A load attempted while only the subscriber was up failed: load now.
    if (!locksKnown && sub.status === 'ready' && !closed) loadLocks().catch(() => {});
  });
  sub.on('error', () => {}); // the command connection reports the outage
  sub.on('message', (ch: string, msg: string) => {
    if (ch === locksChannel) {
      const cut = msg.indexOf(':');
      const id = Number(msg.slice(0, cut));
      mirrorLock(id, Number(msg.slice(cut + 1)));
      locksTouched?.add(id);
      return;
    }
    if (ch !== channel) return;
    let event: LiveEvent;
    try {
      event = JSON.parse(msg) as LiveEvent;
    } catch {
      return;
    }
    deliver(event);
  });

  function deliver(event: LiveEvent): void {
    for (const h of handlers) {
      try {
        h(event);
      } catch (err) {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'live event handler failed');
      }
    }
  }

  function mirrored(id: number): number {
    const until = locks.get(id) ?? 0;
    return until > Date.now() ? until : 0;
  }

  function mirrorLock(id: number, until: number): void {
    if (until > Date.now()) locks.set(id, until);
    else locks.delete(id);
  }

  // A message published while the subscriber was away is lost: the mirror
  // counts as unknown from the moment the connection drops until it is
  // subscribed again and has re-read every lock-out key.
  sub.on('close', () => {
    locksKnown = false;
  });
  sub.on('ready', () => {
    if (!closed) loadLocks().catch(() => {});
  });

  // Loads may overlap (the subscriber's 'ready' and ready()); only the latest
  // applies what it read, since only it saw every change message after its read.
  let lockLoads = 0;
  async function loadLocks(): Promise<void> {
    const gen = ++lockLoads;
    locksKnown = false;
    const touched = new Set<number>();
    locksTouched = touched;
    // Subscribed before reading: a change made after the read arrives as a message.
    await sub.subscribe(channel, locksChannel);
    const found = new Map<number, number>();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${lockPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) {
        const values = await client.mget(...keys);
        for (let i = 0; i < keys.length; i++)
          found.set(Number(keys[i].slice(lockPrefix.length)), Number(values[i] ?? 0));
      }
    } while (cursor !== '0');
    if (gen !== lockLoads) return;
    for (const id of [...locks.keys()]) if (!touched.has(id) && !found.has(id)) locks.delete(id);
    for (const [id, until] of found) if (!touched.has(id)) mirrorLock(id, until);
    locksTouched = undefined;
    if (sub.status === 'ready') locksKnown = true;
  }

  async function beat(): Promise<void> {
    if (closed || client.status !== 'ready') return;
    const [wasAlive, seen] = await client.pcHeartbeat(
      procKey,
      epochKey,
      heartbeatMs,
      randomBytes(8).toString('hex'),
    );
    if (epoch !== undefined && seen !== epoch) {
      log.warn(
        {},
        'live state: Redis lost its data (restarted empty?); counters seeded from the store are seeded again',
      );
      loadLocks().catch(() => {});
      for (const h of resetHandlers) {
        try {
          h();
        } catch (err) {
          log.warn({ err: err instanceof Error ? err.message : String(err) }, 'live reset handler failed');
        }
      }
    }
    epoch = seen;
    if (down) {
      // A command failed (a timeout on a stalled server) while the connection
      // stayed up, so no 'ready' will follow: the answered heartbeat is the
      // sign Redis is back. Thread counts taken meanwhile are written back.
      down = false;
      markDirty();
      log.info({}, 'live state: Redis answers again, reconciling');
    }
    if (wasAlive === 0 && held.size > 0) markDirty();
    if (dirty) await reconcile();
  }

  async function reconcile(): Promise<void> {
    // An acquire in flight may already have incremented our field on the
    // server; writing `held` now would lose it. acquireThread retries when
    // the last one in flight returns.
    if (inflight > 0 || reconciling || closed || client.status !== 'ready') return;
    reconciling = true;
    try {
      const gen = dirtyGen;
      const args: Array<string | number> = [prefix, pid];
      for (const [cid, n] of held) args.push(cid, n);
      if (args.length > 2) await client.pcReconcile(...args);
      if (gen !== dirtyGen) return;
      dirty = false;
      for (const [cid, n] of held) if (n <= 0) held.delete(cid);
    } finally {
      reconciling = false;
    }
  }

  const beatTimer = setInterval(() => beat().catch(degrade), Math.max(100, Math.floor(heartbeatMs / 5)));
  beatTimer.unref();
  const flushTimer = setInterval(() => flush().catch(degrade), opts.flushMs ?? 1000);
  flushTimer.unref();

  function localAcquire(customerId: number, cap: number): number {
    markDirty();
    const n = held.get(customerId) ?? 0;
    if (cap > 0 && n >= cap) return -1;
    held.set(customerId, n + 1);
    return n + 1;
  }

  function buildBatch(): void {
    const args: Array<string | number> = [prefix, pid, ++seq, QUOTA_TTL_S, 0];
    const deltas = hourly.take();
    for (const d of deltas)
      args.push(d.customerId, d.hour, d.bytesUp, d.bytesDown, d.connections, d.requests);
    args[4] = deltas.length;
    const bytes = new Map<string, number>();
    for (const [cid, key, n] of pendingBytes.take()) {
      args.push(cid, key, n);
      bytes.set(`${cid}:${key}`, n);
    }
    batch = { seq, args, bytes };
  }

  async function push(): Promise<void> {
    // At most two rounds: a batch left over from a failed flush, then what
    // accumulated since (under steady traffic there is always more).
    for (let round = 0; round < 2; round++) {
      if (batch === undefined) {
        if (hourly.empty && pendingBytes.empty) return;
        buildBatch();
      }
      if (client.status !== 'ready') throw new Error('Redis is not connected');
      await client.pcFlush(...batch!.args);
      batch = undefined;
    }
  }

  function flush(): Promise<void> {
    // What producers counted elsewhere (socket counters) joins this flush.
    for (const p of producers) {
      try {
        p();
      } catch (err) {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'live flush producer failed');
      }
    }
    // One flush at a time (sequence order); a second caller also pushes what
    // accumulated since the running flush started.
    const run = (flushing ?? Promise.resolve()).then(push, push);
    flushing = run;
    run
      .finally(() => {
        if (flushing === run) flushing = undefined;
      })
      .catch(() => {});
    return run;
  }

  const live: RedisLive = {
    kind: 'redis',
    processId: pid,
    get degraded() {
      return down;
    },

    async acquireThread(customerId, cap) {
      if (client.status !== 'ready') return localAcquire(customerId, cap);
      inflight++;
      let n: number;
      try {
        n = await client.pcThreads(`${prefix}thr:${customerId}`, cap, pid, procPrefix);
      } catch (err) {
        // It may or may not have been applied: count locally, rewrite our field later.
        inflight--;
        degrade(err);
        return localAcquire(customerId, cap);
      }
      inflight--;
      if (n > 0) held.set(customerId, (held.get(customerId) ?? 0) + 1);
      if (dirty && inflight === 0) reconcile().catch(degrade);
      return n;
    },
    releaseThread(customerId) {
      const n = held.get(customerId);
      if (n === undefined || n <= 0) return;
      if (n === 1 && !dirty) held.delete(customerId);
      else held.set(customerId, n - 1);
      if (dirty || client.status !== 'ready') {
        markDirty();
        return;
      }
      client.pcRelease(`${prefix}thr:${customerId}`, pid).catch((err: unknown) => {
        markDirty();
        degrade(err);
      });
    },
    async threads(customerId) {
      if (client.status === 'ready') {
        try {
          return await client.pcThreads(`${prefix}thr:${customerId}`, -2, pid, procPrefix);
        } catch (err) {
          degrade(err);
        }
      }
      return held.get(customerId) ?? 0;
    },

    async takeTokens(key, rate, burst, n = 1) {
      if (rate <= 0) return true;
      if (burst <= 0) burst = rate;
      if (client.status === 'ready') {
        try {
          return (await client.pcBucket(prefix + key, rate, burst, n)) === 1;
        } catch (err) {
          degrade(err);
        }
      }
      return fallback.takeTokens(key, rate, burst, n);
    },

    addUsage(customerId, periodKey, bytesUp, bytesDown, connections, requests) {
      hourly.add(customerId, bytesUp, bytesDown, connections, requests);
      const bytes = bytesUp + bytesDown;
      if (bytes !== 0) pendingBytes.add(customerId, periodKey, bytes);
    },
    async periodBytes(customerId, periodKey) {
      const id = `${customerId}:${periodKey}`;
      let stored = lastKnown.get(id) ?? 0;
      if (client.status === 'ready') {
        try {
          stored = Number((await client.get(`${prefix}q:${id}`)) ?? 0);
          if (lastKnown.size > 100_000) lastKnown.clear();
          lastKnown.set(id, stored);
        } catch (err) {
          degrade(err);
        }
      }
      return stored + pendingBytes.get(customerId, periodKey) + (batch?.bytes.get(id) ?? 0);
    },
    async seedPeriodBytes(customerId, periodKey, bytes) {
      await client.pcSeed(`${prefix}q:${customerId}:${periodKey}`, bytes, QUOTA_TTL_S);
    },
    async drainUsage() {
      await flush().catch(degrade);
      const flat = await client.pcDrain(`${prefix}usage`);
      const byHour = new Map<string, UsageDelta>();
      for (let i = 0; i < flat.length; i += 2) {
        const field = flat[i];
        const cut = field.lastIndexOf(':');
        const id = field.slice(0, cut);
        let d = byHour.get(id);
        if (d === undefined) {
          const [cid, hour] = id.split(':');
          d = {
            customerId: Number(cid),
            hour: Number(hour),
            bytesUp: 0,
            bytesDown: 0,
            connections: 0,
            requests: 0,
          };
          byHour.set(id, d);
        }
        const v = Number(flat[i + 1]);
        const k = field.slice(cut + 1);
        if (k === 'u') d.bytesUp += v;
        else if (k === 'd') d.bytesDown += v;
        else if (k === 'c') d.connections += v;
        else if (k === 'r') d.requests += v;
      }
      return [...byHour.values()];
    },

    async lockedUntil(customerId) {
      if (locksKnown && client.status === 'ready') return mirrored(customerId);
      if (client.status === 'ready') {
        try {
          const until = Number((await client.get(`${lockPrefix}${customerId}`)) ?? 0);
          await fallback.setLockout(customerId, until);
          return until > Date.now() ? until : 0;
        } catch (err) {
          degrade(err);
        }
      }
      // Redis unreachable: what this process knows (its own lock-outs, and the mirror as it last was).
      return Math.max(await fallback.lockedUntil(customerId), mirrored(customerId));
    },
    async setLockout(customerId, untilMs) {
      await fallback.setLockout(customerId, untilMs);
      const key = `${lockPrefix}${customerId}`;
      const ttl = Math.ceil(untilMs - Date.now());
      const tx = client.multi();
      if (ttl <= 0) tx.del(key);
      else tx.set(key, untilMs, 'PX', ttl);
      const results = await tx.publish(locksChannel, `${customerId}:${ttl <= 0 ? 0 : untilMs}`).exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0];
      // Every process mirrors it from the message; this one knows already.
      mirrorLock(customerId, ttl <= 0 ? 0 : untilMs);
    },

    async authFailure(key, limit, windowMs, lockMs) {
      if (client.status === 'ready') {
        try {
          const t = Date.now();
          const [until, fresh] = await client.pcAuthFail(
            `${prefix}af:${key}`,
            authLocksKey,
            key,
            limit,
            windowMs,
            t + lockMs,
            t,
          );
          return { until: Number(until), fresh: fresh === 1 };
        } catch (err) {
          degrade(err);
        }
      }
      return fallback.authFailure(key, limit, windowMs, lockMs);
    },
    async authLocks() {
      if (client.status === 'ready') {
        try {
          const flat = await client.zrangebyscore(
            authLocksKey,
            `(${Date.now()}`,
            '+inf',
            'WITHSCORES',
            'LIMIT',
            0,
            100_000,
          );
          const out = new Map<string, number>();
          for (let i = 0; i < flat.length; i += 2) out.set(flat[i], Number(flat[i + 1]));
          return out;
        } catch (err) {
          degrade(err);
        }
      }
      return fallback.authLocks();
    },
    async clearAuthLock(key) {
      await fallback.clearAuthLock(key);
      await client.multi().zrem(authLocksKey, key).del(`${prefix}af:${key}`).exec();
    },

    async publish(event) {
      try {
        await client.publish(channel, JSON.stringify(event));
      } catch (err) {
        // Other processes miss it; at least this one acts on it.
        deliver(event);
        throw err;
      }
    },
    subscribe(handler) {
      const h = (e: LiveEvent) => handler(e);
      handlers.add(h);
      return () => {
        handlers.delete(h);
      };
    },

    flush,
    onReset(handler) {
      const h = () => handler();
      resetHandlers.add(h);
      return () => {
        resetHandlers.delete(h);
      };
    },
    onFlush(producer) {
      const p = () => producer();
      producers.add(p);
      return () => {
        producers.delete(p);
      };
    },
    async ping() {
      await client.ping();
    },
    async ready(timeoutMs = 3000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
      });
      const up = (async () => {
        if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
        await beat();
        if (sub.status !== 'ready') await new Promise((resolve) => sub.once('ready', resolve));
        await loadLocks();
      })();
      up.catch(() => {}); // when the timeout wins, a later failure has no one to tell
      try {
        await Promise.race([up, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (closed) return;
      clearInterval(beatTimer);
      clearInterval(flushTimer);
      if (client.status === 'ready') {
        await flush().catch(() => {});
        // A graceful stop gives its slots back at once instead of after the TTL.
        const args: Array<string | number> = [prefix, pid];
        for (const cid of held.keys()) args.push(cid, 0);
        await Promise.all([
          args.length > 2 ? client.pcReconcile(...args) : undefined,
          client.del(procKey),
        ]).catch(() => {});
      }
      closed = true;
      handlers.clear();
      producers.clear();
      resetHandlers.clear();
      await fallback.close();
      await Promise.all([quit(client), quit(sub)]);
    },
  };
  return live;
}

async function quit(c: Redis): Promise<void> {
  if (c.status === 'ready') {
    try {
      await c.quit();
      return;
    } catch {
      // fall through
    }
  }
  c.disconnect();
}
