import { compilePolicy } from '../store/repos/policies.ts';
// Row → JSON shapes the API answers with (CONTRACT.md units: bytes, bytes/s,
// seconds, ISO-8601 times). Secrets never leave through here.

import { upstreamDisplay } from '../domain/upstream-line.ts';
import type { AdminTokenRow } from '../store/repos/admin-tokens.ts';
import type { CustomerIpRow, CustomerRow } from '../store/repos/customers.ts';
import type { AuditRow } from '../store/repos/events.ts';
import type { PlanRow } from '../store/repos/plans.ts';
import type { UpstreamRow } from '../store/repos/upstreams.ts';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function planView(p: PlanRow) {
  return {
    id: p.id,
    name: p.name,
    threads: p.threads,
    rps: p.rps,
    bandwidth: p.bandwidth,
    connBandwidth: p.connBandwidth,
    quotaBytes: p.quotaBytes,
    quotaPeriod: p.quotaPeriod,
    durationDays: p.durationDays,
    priceCents: p.priceCents,
    strikeMode: p.strikeMode,
    threadsHardCap: p.threadsHardCap,
    strikeWindowSec: p.strikeWindowSec,
    lockoutSec: p.lockoutSec,
    ipMaxConns: p.ipMaxConns,
    ipRps: p.ipRps,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export function ipView(i: CustomerIpRow) {
  return { cidr: i.cidr, note: i.note, expiresAt: iso(i.expiresAt), createdAt: iso(i.createdAt) };
}

export function customerView(c: CustomerRow, p: PlanRow, ips: CustomerIpRow[]) {
  return {
    id: c.id,
    username: c.username,
    plan: p.name,
    status: c.status,
    banReason: c.banReason,
    bannedUntil: iso(c.bannedUntil),
    expiresAt: iso(c.expiresAt),
    startOnFirstUse: c.startOnFirstUse,
    firstUsedAt: iso(c.firstUsedAt),
    apiKeyPrefix: c.apiKeyPrefix,
    ips: ips.map(ipView),
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

export function tokenView(t: AdminTokenRow) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    scopes: t.scopes,
    expiresAt: iso(t.expiresAt),
    lastUsedAt: iso(t.lastUsedAt),
    revokedAt: iso(t.revokedAt),
    createdAt: iso(t.createdAt),
  };
}

export function upstreamView(u: UpstreamRow, username: string | null) {
  return {
    id: u.id,
    port: u.boundPort,
    upstream: upstreamDisplay({ protocol: u.protocol as 'http', host: u.host, port: u.port, username }),
    protocol: u.protocol,
    health: u.health,
    latencyMs: u.latencyMs,
    failures: u.failures,
    lastCheckedAt: iso(u.lastCheckedAt),
    lastError: u.lastError,
  };
}

export function auditView(a: AuditRow) {
  return {
    id: a.id,
    at: iso(a.at),
    actor: a.actor,
    action: a.action,
    target: a.target,
    detail: a.detail ?? null,
    ip: a.ip,
  };
}

/** The same compiled shape the gateway enforces, for checkAccess on the API side. */
/** The same compiled policy the gateway enforces (store/repos/policies.ts). */
export const toPolicy = compilePolicy;
