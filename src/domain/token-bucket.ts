// A token bucket that may go into debt: the bandwidth throttle charges a
// chunk after it has been read (so a chunk is never split or copied), which
// can take the level below zero; the reader then waits until the debt is paid
// back at `rate`. Pure: the caller passes the clock, so tests need no sleep.

export interface TokenBucket {
  /** tokens per second */
  rate: number;
  /** the most tokens held (what an idle client may use at once) */
  burst: number;
  /** level at `last`; negative is debt */
  tokens: number;
  /** ms (any monotonic clock) of the last refill */
  last: number;
}

/** A full bucket. `burst` <= 0 means burst = rate. */
export function createTokenBucket(rate: number, burst: number, nowMs: number): TokenBucket {
  const b = burst > 0 ? burst : rate;
  return { rate, burst: b, tokens: b, last: nowMs };
}

/** Brings the level up to `nowMs` and returns it. */
export function refill(b: TokenBucket, nowMs: number): number {
  const elapsed = nowMs - b.last;
  if (elapsed > 0) {
    b.tokens = Math.min(b.burst, b.tokens + (elapsed * b.rate) / 1000);
    b.last = nowMs;
  }
  return b.tokens;
}

/** Takes `n` tokens only if they are there; true when taken. */
export function take(b: TokenBucket, n: number, nowMs: number): boolean {
  if (refill(b, nowMs) < n) return false;
  b.tokens -= n;
  return true;
}

/** Takes `n` tokens whatever the level (it may go negative); returns the new level. */
export function charge(b: TokenBucket, n: number, nowMs: number): number {
  refill(b, nowMs);
  b.tokens -= n;
  return b.tokens;
}

/** Milliseconds until the level reaches `level` (0 when it already has). */
export function msUntil(b: TokenBucket, level: number, nowMs: number): number {
  const missing = level - refill(b, nowMs);
  return missing <= 0 ? 0 : Math.ceil((missing * 1000) / b.rate);
}
