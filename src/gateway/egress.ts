// Egress guard: a customer must not reach the control plane, the host's
// private networks or cloud metadata through a proxy. Ranges are compiled
// once; per connection one CidrMap lookup answers. `allow` (operator's
// PORTCULLIS_EGRESS_ALLOW) wins over the blocked ranges, but never opens the
// platform's own ports on local addresses (API, gateway range, bound ports).
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
  '::/128',
  '::1/128',
  '64:ff9b:1::/48',
  'fc00::/7', // unique local
  'fe80::/10', // link-local
  'ff00::/8', // multicast
];

export interface EgressGuard {
  /** True when connecting to `ip:port` is allowed. */
  allowed(ip: Ip, port: number): boolean;
  /** Same, from text; non-IP text (a name) is allowed here: resolve first, or let the upstream resolve. */
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
    allowed(ip, port) {
      if (local.lookup(ip) && opts.ownPort(port)) return false;
      if (allow.lookup(ip)) return true;
      return !blocked.lookup(ip);
    },
    allowedText(host, port) {
      const ip = parseIp(host);
      return ip ? guard.allowed(ip, port) : true;
    },
  };
  return guard;
}
