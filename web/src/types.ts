// Shapes of the API answers the console reads (docs/api.md).

export interface Plan {
  id: number;
  name: string;
  threads: number;
  rps: number;
  bandwidth: number | null;
  connBandwidth: number | null;
  quotaBytes: number | null;
  quotaPeriod: string;
  durationDays: number | null;
  priceCents: number | null;
  strikeMode: 'hard' | 'soft';
  threadsHardCap: number | null;
}

export interface Ip {
  cidr: string;
  note: string | null;
  expiresAt: string | null;
  createdAt: string;
}

export interface Customer {
  id: number;
  username: string;
  plan: string;
  status: 'active' | 'disabled' | 'banned';
  banReason: string | null;
  bannedUntil: string | null;
  expiresAt: string | null;
  startOnFirstUse: boolean;
  lockedUntil?: string | null;
  apiKeyPrefix: string;
  ips: Ip[];
  createdAt: string;
  apiKey?: string;
  password?: string;
}

export interface Usage {
  bytesUp: number;
  bytesDown: number;
  bytesUsed: number;
  quotaBytes: number | null;
  threadsLive: number;
  periodStart: string;
  periodEnd: string | null;
  lockedUntil: string | null;
}

export interface Upstream {
  id: number;
  port: number;
  upstream: string;
  protocol: string;
  health: 'unknown' | 'up' | 'down';
  latencyMs: number | null;
  failures: number;
  lastCheckedAt: string | null;
  lastError: string | null;
  listener: string | null;
  listenerError: string | null;
}

export interface Connection {
  id: string;
  customer: string;
  clientAddress: string;
  port: number;
  target: string;
  upstream: string;
  bytesUp: number;
  bytesDown: number;
  since: string;
}

export interface Lockout {
  scope: 'address' | 'username';
  /** an IPv4 address, an IPv6 /64, or a username */
  key: string;
  until: string;
}

export interface AuditEvent {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  detail: unknown;
  ip: string | null;
}

export interface Stats {
  at: string;
  scope: 'process' | 'none';
  connections: number;
  customers: number;
  bandwidth: { up: number; down: number };
  top: { username: string; connections: number; bytesPerSec: number }[];
}

export interface PortCell {
  port: number;
  health: string;
  latencyMs: number | null;
  failures: number;
  listener: string | null;
}

export interface Overview {
  customer: Customer;
  plan: {
    name: string;
    threads: number;
    rps: number;
    bandwidth: number | null;
    quotaBytes: number | null;
    quotaPeriod: string;
    durationDays: number | null;
  };
  usage: Usage;
  refusal: { code: string; reason: string; message: string } | null;
}
