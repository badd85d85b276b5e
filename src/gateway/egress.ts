// Egress guard: a customer must not reach the control plane, the host's
// private networks or cloud metadata through a proxy. Ranges are compiled
// once; per connection one CidrMap lookup answers. `allow` (operator's
// PORTCULLIS_EGRESS_ALLOW) wins over the blocked ranges, but never opens the
// platform's own ports on local addresses (API, gateway range, bound ports).
// The host's own addresses count as loopback: a service bound to 0.0.0.0
// answers on them too, past any firewall on the outside interface.
import { networkInterfaces } from 'node:os';
import { CidrMap, type Ip, parseCidr, parseIp } from '../domain/cidr.ts';

const BLOCKED = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10', // CGNAT
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local, incl. 169.254.169.254 metadata
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, incl. broadcast
  '::/96', // unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d
  '64:ff9b:1::/48',
  'fc00::/7', // unique local
  'fe80::/10', // link-local
  'ff00::/8', // multicast
];

/** NAT64 well-known prefix (RFC 6052): 64:ff9b::a.b.c.d is a.b.c.d behind a translator. */
const NAT64 = 0x0064ff9bn << 96n;
const LOOPBACK: Ip = { version: 4, value: 0x7f000001n };

/**
 * The address a host text names without DNS, as resolvers and upstream
 * proxies read it: IPv4/IPv6 literals, the inet_aton spellings
 * ("2130706433", "0x7f.1", "127.1", "0177.0.0.1"), a trailing dot, and
 * "localhost" with its subdomains (RFC 6761 §6.3). Null for a real name.
 */
export function hostAsIp(host: string): Ip | null {
  const ip = parseIp(host);
  if (ip) return ip;
  let h = host.toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return LOOPBACK;
  return inetAton(h) ?? parseIp(h);
}

/** inet_aton(3): 1-4 parts, each decimal, 0x hex or 0-led octal; the last fills the remaining bytes. */
function inetAton(h: string): Ip | null {
  const parts = h.split('.');
  if (parts.length > 4) return null;
  let value = 0n;
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i];
    let n: bigint;
    if (/^0x[0-9a-f]*$/.test(t)) n = t.length === 2 ? 0n : BigInt(t);
    else if (/^0[0-7]*$/.test(t)) n = BigInt(`0o${t.slice(1) || '0'}`);
    else if (/^[1-9][0-9]*$/.test(t)) n = BigInt(t);
    else return null;
    const bits = i === parts.length - 1 ? 8n * BigInt(4 - i) : 8n;
    if (n >= 1n << bits) return null;
    value = i === parts.length - 1 ? (value << bits) | n : (value << 8n) | n;
  }
  return { version: 4, value };
}

export interface EgressGuard {
  /** True when connecting to `ip:port` is allowed. */
  allowed(ip: Ip, port: number): boolean;
  /**
   * Same, from text (see hostAsIp: numeric spellings and localhost count as
   * addresses); a real name is allowed here: resolve first, or let the upstream resolve.
   */
  allowedText(host: string, port: number): boolean;
}

export interface EgressOptions {
  allow: readonly string[];
  /** ports of the platform itself (API port, gateway range, bound ports) */
  ownPort: (port: number) => boolean;
}

export function createEgressGuard(opts: EgressOptions): EgressGuard {
  const blocked = new CidrMap<true>();
  for (const t of BLOCKED) blocked.set(parseCidr(t)!, true);
  const allow = new CidrMap<true>();
  for (const t of opts.allow) {
    const c = parseCidr(t);
    if (c) allow.set(c, true);
  }
  // The host's own addresses: the platform's ports there are the control plane.
  const local = new CidrMap<true>();
  for (const t of ['127.0.0.0/8', '::1/128', '0.0.0.0/32', '::/128']) local.set(parseCidr(t)!, true);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      const ip = parseIp(a.address);
      if (ip)
        local.set({ ...ip, network: ip.value, prefix: ip.version === 4 ? 32 : 128, text: a.address }, true);
    }
  }

  const guard: EgressGuard = {
    allowed(target, port) {
      const ip =
        target.version === 6 && target.value >> 32n === NAT64 >> 32n
          ? { version: 4 as const, value: target.value & 0xffffffffn }
          : target;
      const isLocal = local.lookup(ip) !== undefined;
      if (isLocal && opts.ownPort(port)) return false;
      if (allow.lookup(ip)) return true;
      return !isLocal && !blocked.lookup(ip);
    },
    allowedText(host, port) {
      const ip = hostAsIp(host);
      return ip ? guard.allowed(ip, port) : true;
    },
  };
  return guard;
}
