// Lua scripts of redis.ts. Each runs atomically on the server, which is what
// makes thread counts exact across processes. Some scripts build key names
// from ARGV (process liveness keys, per-customer counters), so they assume a
// single Redis/Valkey node or a primary with replicas, not Redis Cluster.
import type { Redis } from 'ioredis';

/**
 * Threads of one customer: a hash `thr:{cid}` with one field per process id
 * holding that process's count. Fields of processes whose liveness key
 * `proc:{pid}` expired are deleted (a SIGKILLed gateway's slots come back
 * within the heartbeat TTL). ARGV[1] = cap (> 0 limit, <= 0 none, -2 count
 * only), ARGV[2] = own process id (alive by definition), ARGV[3] = liveness
 * key prefix. Returns the total after taking, -1 when refused, or the total.
 */
const THREADS = `
local h = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #h, 2 do
  local f = h[i]
  if f == ARGV[2] or redis.call('EXISTS', ARGV[3] .. f) == 1 then
    total = total + tonumber(h[i + 1])
  else
    redis.call('HDEL', KEYS[1], f)
  end
end
local cap = tonumber(ARGV[1])
if cap == -2 then return total end
if cap > 0 and total >= cap then return -1 end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
return total + 1
`;

/** Gives one slot of this process back; never below zero (the field goes away at zero). */
const RELEASE = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n
`;

/**
 * Sets this process's field of each listed customer to what it really holds
 * (after Redis was unreachable, or after other processes reaped our fields
 * because our liveness key expired). ARGV[1] = key prefix, ARGV[2] = process
 * id, then pairs (customer id, count).
 */
const RECONCILE = `
for i = 3, #ARGV, 2 do
  local k = ARGV[1] .. 'thr:' .. ARGV[i]
  if tonumber(ARGV[i + 1]) > 0 then
    redis.call('HSET', k, ARGV[2], ARGV[i + 1])
  else
    redis.call('HDEL', k, ARGV[2])
  end
end
return 1
`;

/**
 * Refreshes the liveness key (KEYS[1], TTL ARGV[1] ms) and reads the epoch
 * key (KEYS[2]), creating it with ARGV[2] when missing. Returns {1|0, epoch}:
 * 0 when the liveness key had expired (our fields may have been reaped); an
 * epoch other than the one seen before means Redis lost what it held
 * (restarted empty, flushed).
 */
const HEARTBEAT = `
local old = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', KEYS[2], epoch)
end
if old then return {1, epoch} else return {0, epoch} end
`;

/**
 * Raises a period counter to at least ARGV[1] (the store's total: a lower
 * bound of the truth), never lowers it; TTL ARGV[2] s.
 */
const SEED = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '-1')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 1
`;

/**
 * Token bucket in a hash {t: tokens, l: last refill ms}, on the server's
 * clock so every process agrees. ARGV: rate/s, burst, n. Returns 1 if taken.
 */
const BUCKET = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HMGET', KEYS[1], 't', 'l')
local tokens = tonumber(v[1])
local last = tonumber(v[2])
if tokens == nil or last == nil then
  tokens = burst
else
  local elapsed = now - last
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(burst, tokens + elapsed * rate / 1000)
end
local ok = 0
if tokens >= n then
  tokens = tokens - n
  ok = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'l', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return ok
`;

/**
 * Applies one batch of usage increments exactly once: batches of a process
 * carry increasing sequence numbers and a retried batch (reply lost, Redis
 * restarted mid-flush) whose number was already applied is skipped, so
 * reconnecting never double counts. ARGV[1] = key prefix, ARGV[2] = process
 * id, ARGV[3] = sequence, ARGV[4] = period counter TTL (s), ARGV[5] = number
 * of hourly entries; then hourly entries (cid, hour, up, down, connections,
 * requests) and period entries (cid, period key, bytes).
 */
const FLUSH = `
local seqKey = ARGV[1] .. 'fseq:' .. ARGV[2]
local seq = tonumber(ARGV[3])
if tonumber(redis.call('GET', seqKey) or '0') >= seq then return 0 end
redis.call('SET', seqKey, ARGV[3], 'PX', 86400000)
local usage = ARGV[1] .. 'usage'
local suffix = {':u', ':d', ':c', ':r'}
local i = 6
for _ = 1, tonumber(ARGV[5]) do
  local f = ARGV[i] .. ':' .. ARGV[i + 1]
  for j = 1, 4 do
    if ARGV[i + 1 + j] ~= '0' then redis.call('HINCRBY', usage, f .. suffix[j], ARGV[i + 1 + j]) end
  end
  i = i + 6
end
while i <= #ARGV do
  local k = ARGV[1] .. 'q:' .. ARGV[i] .. ':' .. ARGV[i + 1]
  redis.call('INCRBY', k, ARGV[i + 2])
  redis.call('EXPIRE', k, ARGV[4])
  i = i + 3
end
return 1
`;

/**
 * One failed authentication (see LiveState.authFailure). KEYS[1] = the key's
 * failure counter, KEYS[2] = the lock-out set (member = key, score = end ms).
 * ARGV: member, limit, window ms, lock end ms, now ms (the caller's clock: a
 * lock-out is minutes long, host clock skew does not matter). Returns
 * {end or '0', 1 when this call set the lock-out}.
 */
const AUTH_FAIL = `
local u = redis.call('ZSCORE', KEYS[2], ARGV[1])
if u and tonumber(u) > tonumber(ARGV[5]) then return {u, 0} end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if n < tonumber(ARGV[2]) then return {'0', 0} end
redis.call('DEL', KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
-- The set lives as long as its last lock-out.
local want = tonumber(ARGV[4]) - tonumber(ARGV[5])
if redis.call('PTTL', KEYS[2]) < want then redis.call('PEXPIRE', KEYS[2], want) end
return {ARGV[4], 1}
`;

/** Takes the hourly usage hash and deletes it in one step. */
const DRAIN = `
local v = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return v
`;

export interface LiveScripts {
  pcThreads(key: string, cap: number, pid: string, procPrefix: string): Promise<number>;
  pcRelease(key: string, pid: string): Promise<number>;
  pcReconcile(...args: Array<string | number>): Promise<number>;
  pcHeartbeat(key: string, epochKey: string, ttlMs: number, candidate: string): Promise<[number, string]>;
  pcSeed(key: string, bytes: number, ttlS: number): Promise<number>;
  pcBucket(key: string, rate: number, burst: number, n: number): Promise<number>;
  pcFlush(...args: Array<string | number>): Promise<number>;
  pcDrain(key: string): Promise<string[]>;
  pcAuthFail(
    counter: string,
    locks: string,
    member: string,
    limit: number,
    windowMs: number,
    untilMs: number,
    nowMs: number,
  ): Promise<[string, number]>;
}

export function defineScripts(client: Redis): Redis & LiveScripts {
  client.defineCommand('pcThreads', { numberOfKeys: 1, lua: THREADS });
  client.defineCommand('pcRelease', { numberOfKeys: 1, lua: RELEASE });
  client.defineCommand('pcReconcile', { numberOfKeys: 0, lua: RECONCILE });
  client.defineCommand('pcHeartbeat', { numberOfKeys: 2, lua: HEARTBEAT });
  client.defineCommand('pcSeed', { numberOfKeys: 1, lua: SEED });
  client.defineCommand('pcBucket', { numberOfKeys: 1, lua: BUCKET });
  client.defineCommand('pcFlush', { numberOfKeys: 0, lua: FLUSH });
  client.defineCommand('pcDrain', { numberOfKeys: 1, lua: DRAIN });
  client.defineCommand('pcAuthFail', { numberOfKeys: 2, lua: AUTH_FAIL });
  return client as Redis & LiveScripts;
}
