// The strike rule of soft-mode plans, as a pure clock: fed observations of a
// customer's live thread count (across every process) with the time they were
// made, it says when the customer has stayed ABOVE the plan's `threads`
// continuously for `strikeWindowSec`, and until when the lock-out then runs.
// No I/O and no clock of its own, so the 15-minute rule is tested in
// microseconds (gateway/strike.ts feeds it real counts and Date.now()).
import type { Limits } from './policy.ts';

/** What the clock remembers between observations; 0 = not above the limit now. */
export interface StrikeClock {
  overSince: number;
}

export type StrikeVerdict =
  /** at or under the limit (or hard mode): nothing to watch */
  | { kind: 'ok' }
  /** above the limit since `since` (ms); strikes at `strikesAt` if it stays there */
  | { kind: 'over'; since: number; strikesAt: number }
  /** above for the whole window: kick everything, lock out until `lockedUntil` */
  | { kind: 'strike'; since: number; lockedUntil: number };

type StrikeLimits = Pick<Limits, 'threads' | 'strikeMode' | 'strikeWindowSec' | 'lockoutSec'>;

/** Whether the strike rule applies to these limits at all. */
export function strikeApplies(l: StrikeLimits): boolean {
  return l.strikeMode === 'soft' && l.threads > 0;
}

/** True when `held` connections put the customer over the bought threads (soft mode). */
export function overLimit(l: StrikeLimits, held: number): boolean {
  return strikeApplies(l) && held > l.threads;
}

/**
 * One observation: `threadsNow` live threads at `nowMs`. Mutates `clock`
 * (a strike resets it, so the next window starts fresh after the lock-out).
 * "Continuously" means every observation since `overSince` was above the
 * limit: one observation at or under it restarts the window.
 */
export function observeThreads(
  clock: StrikeClock,
  l: StrikeLimits,
  threadsNow: number,
  nowMs: number,
): StrikeVerdict {
  if (!overLimit(l, threadsNow)) {
    clock.overSince = 0;
    return { kind: 'ok' };
  }
  if (clock.overSince === 0 || clock.overSince > nowMs) clock.overSince = nowMs;
  const since = clock.overSince;
  const strikesAt = since + l.strikeWindowSec * 1000;
  if (nowMs < strikesAt) return { kind: 'over', since, strikesAt };
  clock.overSince = 0;
  return { kind: 'strike', since, lockedUntil: nowMs + l.lockoutSec * 1000 };
}
