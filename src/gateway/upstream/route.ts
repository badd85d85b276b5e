// A bound port's upstream as the hot path uses it: the stored target plus
// what is precomputed once (label, Basic credentials) and the health the
// checker keeps up to date.
import type net from 'node:net';
import type { UpstreamTarget } from '../../domain/policy.ts';
import type { EgressGuard } from '../egress.ts';
import type { Track } from './net.ts';

export interface Route {
  target: UpstreamTarget;
  /** "http://host:port", "socks5://host:port" or "direct" (never the credentials) */
  label: string;
  /** "Basic ..." for HTTP upstreams with credentials */
  basic: string | null;
  health: 'unknown' | 'up' | 'down';
  latencyMs: number | null;
  failures: number;
  lastError: string | null;
}

export function toRoute(t: UpstreamTarget): Route {
  const hostText = t.host.includes(':') ? `[${t.host}]` : t.host;
  return {
    target: t,
    label: t.protocol === 'direct' ? 'direct' : `${t.protocol}://${hostText}:${t.port}`,
    basic:
      t.protocol === 'http' && t.username !== null
        ? `Basic ${Buffer.from(`${t.username}:${t.password ?? ''}`).toString('base64')}`
        : null,
    health: t.health,
    latencyMs: null,
    failures: 0,
    lastError: null,
  };
}

export interface DialContext {
  connectTimeoutMs: number;
  guard: EgressGuard;
  /** every socket opened for this dial, so the owner can destroy it if the client leaves */
  track: Track;
  /** read the upstream socket into a recycled buffer (tunnels: see upstream/net.ts) */
  recycle?: boolean;
}

export type Dialer = (route: Route, host: string, port: number, ctx: DialContext) => Promise<net.Socket>;

/** "host:port" with IPv6 in brackets, as request-targets and CONNECT want it. */
export function authority(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
