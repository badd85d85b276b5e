// Admission rules that do not depend on live counters' arithmetic: status,
// ban, expiry, lock-out and quota. Pure, so the gateway, /api/proxies.php and
// RADIUS give the same answer for the same customer at the same instant.
import type { ErrorCode } from '../errors.ts';
import type { CustomerPolicy } from './policy.ts';

/** The refusal code for this customer now, or null when they may connect. */
export function checkAccess(p: CustomerPolicy, nowMs: number, lockedUntilMs: number): ErrorCode | null {
  if (p.status === 'banned' && (p.bannedUntil === 0 || p.bannedUntil > nowMs)) return 'PC_ERR_BANNED';
  if (p.status === 'disabled') return 'PC_ERR_DISABLED';
  if (p.expiresAt !== 0 && nowMs >= p.expiresAt) return 'PC_ERR_EXPIRED';
  if (lockedUntilMs > nowMs) return 'PC_ERR_LOCKED_OUT';
  return null;
}

/** Quota check: `usedBytes` is up + down in the current period. */
export function quotaExhausted(p: CustomerPolicy, usedBytes: number): boolean {
  return p.limits.quotaBytes > 0 && usedBytes >= p.limits.quotaBytes;
}

/** The most connections admitted at once: the plan's threads, or the soft-mode hard cap. */
export function threadCap(p: CustomerPolicy): number {
  const l = p.limits;
  if (l.threads <= 0) return 0;
  return l.strikeMode === 'soft' ? Math.max(l.threads, l.threadsHardCap) : l.threads;
}
