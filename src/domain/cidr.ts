// IPv4/IPv6 addresses and CIDR blocks as bigints, and a set that answers
// "which entry contains this address" with at most one Map lookup per prefix
// length in use: whitelists are compiled once, looked up per connection.
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  version: 4 | 6;
  network: bigint;
  prefix: number;
  /** canonical text, e.g. "10.0.0.0/8", "2001:db8::/32", "1.2.3.4/32" */
  text: string;
}

export interface Ip {
  version: 4 | 6;
  value: bigint;
}

function v4ToBig(text: string): bigint {
  // Per connection (whitelist and egress checks): number arithmetic, one BigInt at the end.
  const p = text.split('.');
  return BigInt(((Number(p[0]) << 24) >>> 0) + (Number(p[1]) << 16) + (Number(p[2]) << 8) + Number(p[3]));
}

function v6ToBig(text: string): bigint {
  let t = text;
  let tail: bigint[] = [];
  const lastColon = t.lastIndexOf(':');
  const lastPart = t.slice(lastColon + 1);
  if (lastPart.includes('.')) {
    const v4 = v4ToBig(lastPart);
    tail = [v4 >> 16n, v4 & 0xffffn];
    t = `${t.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = t.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(Number.parseInt(g, 16));
  if (tail.length) v = (v & ~0xffffffffn) | (tail[0] << 16n) | tail[1];
  return v;
}

const MAPPED_PREFIX = 0xffffn << 32n;

/** Parses an address; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4. Null when invalid. */
export function parseIp(text: string): Ip | null {
  const t = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(t)) return { version: 4, value: v4ToBig(t) };
  const bare = t.split('%')[0];
  if (!isIPv6(bare)) return null;
  const value = v6ToBig(bare);
  if (value >> 32n === MAPPED_PREFIX >> 32n) return { version: 4, value: value & 0xffffffffn };
  return { version: 6, value };
}

export function formatIp(ip: Ip): string {
  if (ip.version === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((ip.value >> s) & 0xffffn).toString(16));
  // RFC 5952: compress the longest run of zero groups (length >= 2).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

function mask(version: 4 | 6, prefix: number): bigint {
  const bits = version === 4 ? 32 : 128;
  return prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
}

/** Parses "1.2.3.4", "10.0.0.0/8", "2001:db8::/32". Host bits must be zero. Null when invalid. */
export function parseCidr(text: string): Cidr | null {
  const [addr, p, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const bits = ip.version === 4 ? 32 : 128;
  // A v4-mapped v6 CIDR keeps its meaning on the v4 address.
  let prefix = p === undefined ? bits : /^\d{1,3}$/.test(p) ? Number(p) : Number.NaN;
  if (ip.version === 4 && !isIPv4(addr) && p !== undefined) prefix -= 96;
  if (!(prefix >= 0 && prefix <= bits)) return null;
  const network = ip.value & mask(ip.version, prefix);
  if (network !== ip.value) return null;
  return { version: ip.version, network, prefix, text: `${formatIp(ip)}/${prefix}` };
}

export function cidrContains(c: Cidr, ip: Ip): boolean {
  return c.version === ip.version && (ip.value & mask(c.version, c.prefix)) === c.network;
}

/** A compiled set of CIDRs, each carrying a value (e.g. the owning customer). */
export class CidrMap<T> {
  readonly #v4 = new Map<number, Map<bigint, T>>();
  readonly #v6 = new Map<number, Map<bigint, T>>();
  #prefixes4: number[] = [];
  #prefixes6: number[] = [];

  set(c: Cidr, value: T): void {
    const byPrefix = c.version === 4 ? this.#v4 : this.#v6;
    let m = byPrefix.get(c.prefix);
    if (!m) {
      m = new Map();
      byPrefix.set(c.prefix, m);
      // Longest prefix first: the most specific entry wins.
      const list = [...byPrefix.keys()].sort((a, b) => b - a);
      if (c.version === 4) this.#prefixes4 = list;
      else this.#prefixes6 = list;
    }
    m.set(c.network, value);
  }

  lookup(ip: Ip): T | undefined {
    const byPrefix = ip.version === 4 ? this.#v4 : this.#v6;
    for (const p of ip.version === 4 ? this.#prefixes4 : this.#prefixes6) {
      const hit = byPrefix.get(p)!.get(ip.value & mask(ip.version, p));
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  get size(): number {
    let n = 0;
    for (const m of this.#v4.values()) n += m.size;
    for (const m of this.#v6.values()) n += m.size;
    return n;
  }
}
