// What an enforcement point knows about a customer, compiled from the store
// (customer + plan + whitelist) into plain objects the hot path only reads.
// Pure data: no I/O here. Times are ms since epoch; 0 means "not set".

export type QuotaPeriod = 'none' | 'day' | 'week' | 'month' | 'month_from_start';
export type StrikeMode = 'hard' | 'soft';
export type CustomerStatus = 'active' | 'disabled' | 'banned';
export type UpstreamProtocol = 'http' | 'socks5' | 'direct';

export interface Limits {
  /** concurrent connections bought */
  threads: number;
  strikeMode: StrikeMode;
  /** soft mode: the most connections ever admitted (>= threads) */
  threadsHardCap: number;
  strikeWindowSec: number;
  lockoutSec: number;
  /** new connections + HTTP requests per second (burst = rps); 0 = unlimited */
  rps: number;
  /** bytes/s per customer, up+down; 0 = unlimited */
  bandwidth: number;
  /** bytes/s per connection; 0 = unlimited */
  connBandwidth: number;
  /** per client IP; 0 = unlimited */
  ipMaxConns: number;
  ipRps: number;
  /** bytes per period; 0 = unlimited */
  quotaBytes: number;
  quotaPeriod: QuotaPeriod;
}

export interface CustomerPolicy {
  customerId: number;
  username: string;
  passwordHash: string;
  planId: number;
  planName: string;
  status: CustomerStatus;
  bannedUntil: number;
  expiresAt: number;
  startOnFirstUse: boolean;
  firstUsedAt: number;
  periodAnchor: number;
  limits: Limits;
}

export interface UpstreamTarget {
  id: number;
  protocol: UpstreamProtocol;
  host: string;
  port: number;
  username: string | null;
  password: string | null;
  boundPort: number;
  health: 'unknown' | 'up' | 'down';
}
