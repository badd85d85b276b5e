// Properties of the address and CIDR code (src/domain/cidr.ts) that the
// whitelists and the egress guard stand on. Oracles from outside the code:
// node:net's BlockList for containment, the WHATWG URL serializer for the
// canonical IPv6 text, and textual forms of a random 128-bit value written
// here (full, compressed anywhere, upper case, dotted IPv4 tail, zone id).
import assert from 'node:assert/strict';
import { BlockList, isIP } from 'node:net';
import fc from 'fast-check';
import {
  type Cidr,
  CidrMap,
  cidrContains,
  formatIp,
  type Ip,
  parseCidr,
  parseIp,
} from '../../src/domain/cidr.ts';
import { hostileText, type Suite } from './common.ts';

const v4 = fc.bigInt({ min: 0n, max: 2n ** 32n - 1n });
/** 128-bit values, biased towards the interesting shapes (zero runs, mapped, loopback) */
const v6 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }),
  fc
    .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
    .map((g) => g.reduce((a, x) => (a << 16n) | BigInt(x), 0n)),
  v4.map((x) => (0xffffn << 32n) | x),
  fc.constantFrom(0n, 1n, 0xfe80n << 112n, 0xfc00n << 112n),
);

const v4Text = (x: bigint) => [24n, 16n, 8n, 0n].map((s) => String((x >> s) & 0xffn)).join('.');
const groupsOf = (x: bigint) =>
  Array.from({ length: 8 }, (_, i) => Number((x >> BigInt(112 - 16 * i)) & 0xffffn));

/** The textual forms RFC 4291 §2.2 allows for one value: pick the run to compress, case, v4 tail. */
const v6Text = fc
  .tuple(v6, fc.nat(8), fc.nat(8), fc.boolean(), fc.boolean(), fc.boolean())
  .map(([x, from, len, upper, dotted, zero4]) => {
    const g = groupsOf(x).map((n) => (zero4 ? n.toString(16).padStart(4, '0') : n.toString(16)));
    let tail: string[] = [];
    if (dotted) {
      tail = [v4Text(x & 0xffffffffn)];
      g.length = 6;
    }
    const n = g.length;
    // Compress a run of groups that are all zero, if the picked one is.
    const a = from % n;
    const b = Math.min(n, a + 1 + (len % n));
    const zeros = g.slice(a, b).every((s) => /^0+$/.test(s));
    let text: string;
    if (zeros && b - a >= 1) {
      const left = g.slice(0, a).join(':');
      const right = [...g.slice(b), ...tail].join(':');
      text = `${left}::${right}`;
    } else text = [...g, ...tail].join(':');
    return { x, text: upper ? text.toUpperCase() : text };
  });

/** What parseIp must answer for a 128-bit value: IPv4-mapped addresses are IPv4. */
function asIp(x: bigint): Ip {
  return x >> 32n === 0xffffn ? { version: 4, value: x & 0xffffffffn } : { version: 6, value: x };
}

const cidr = fc.oneof(
  fc.tuple(v4, fc.integer({ min: 0, max: 32 })).map(([x, p]) => ({ version: 4 as const, x, p })),
  fc.tuple(v6, fc.integer({ min: 0, max: 128 })).map(([x, p]) => ({ version: 6 as const, x, p })),
);
const maskOf = (version: 4 | 6, p: number) => {
  const bits = version === 4 ? 32 : 128;
  return p === 0 ? 0n : ((1n << BigInt(p)) - 1n) << BigInt(bits - p);
};

export const cidrSuite: Suite = {
  parser: 'IP addresses and CIDR',
  file: 'src/domain/cidr.ts',
  properties: [
    {
      name: 'any text: null, or an address node:net agrees is one, whose text parses back to it',
      weight: 3,
      property: fc.property(
        hostileText(
          fc.oneof(
            v6Text.map((t) => t.text),
            v4.map(v4Text),
            fc.tuple(v4.map(v4Text), fc.nat(40)).map(([a, p]) => `${a}/${p}`),
            v6Text.map((t) => `[${t.text}]`),
            v6Text.map((t) => `${t.text}%eth0`),
          ),
        ),
        (t) => {
          const ip = parseIp(t);
          if (ip) {
            const bare = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
            assert.notEqual(isIP(ip.version === 4 && isIP(bare) === 4 ? bare : bare.split('%')[0]), 0, t);
            assert.ok(ip.value >= 0n && ip.value < (ip.version === 4 ? 2n ** 32n : 2n ** 128n));
            assert.deepEqual(parseIp(formatIp(ip)), ip);
          }
          const c = parseCidr(t);
          if (c) {
            assert.equal(c.network & ~maskOf(c.version, c.prefix), 0n, 'host bits are zero');
            assert.deepEqual(parseCidr(c.text), c, 'canonical text parses to itself');
          }
        },
      ),
    },
    {
      name: 'every textual form of an IPv6 value parses to it (mapped ones to the IPv4 address)',
      weight: 2,
      property: fc.property(v6Text, ({ x, text }) => {
        assert.deepEqual(parseIp(text), asIp(x), text);
        assert.deepEqual(parseIp(`[${text}]`), asIp(x));
        assert.deepEqual(parseIp(`${text}%lo`), asIp(x));
      }),
    },
    {
      name: 'formatIp writes the canonical text (RFC 5952, as the WHATWG URL serializer)',
      property: fc.property(v6, v4, (x, y) => {
        if (x >> 32n !== 0xffffn) {
          const full = groupsOf(x)
            .map((n) => n.toString(16))
            .join(':');
          assert.equal(
            formatIp({ version: 6, value: x }),
            new URL(`http://[${full}]/`).hostname.slice(1, -1),
          );
        }
        assert.equal(formatIp({ version: 4, value: y }), v4Text(y));
      }),
    },
    {
      name: 'containment agrees with node:net BlockList; CIDR text round-trips; host bits refused',
      weight: 2,
      property: fc.property(
        cidr,
        fc.oneof(v4, v6),
        fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }),
        (c, y, noise) => {
          const m = maskOf(c.version, c.p);
          const network = c.x & m;
          const text = c.version === 4 ? v4Text(network) : formatIp({ version: 6, value: network });
          const parsed = parseCidr(`${text}/${c.p}`);
          // A mapped IPv6 network is an IPv4 one; below /96 it is not a network of addresses we hold.
          if (c.version === 6 && network >> 32n === 0xffffn) {
            if (c.p >= 96) assert.deepEqual(parsed?.version, 4);
            return;
          }
          assert.ok(parsed, `${text}/${c.p}`);
          assert.equal(parsed.network, network);
          assert.equal(parsed.prefix, c.p);
          assert.deepEqual(parseCidr(parsed.text), parsed);
          const withHostBits = network | (noise & ~m & (c.version === 4 ? 2n ** 32n - 1n : 2n ** 128n - 1n));
          if (withHostBits !== network) {
            const t2 = c.version === 4 ? v4Text(withHostBits) : formatIp({ version: 6, value: withHostBits });
            assert.equal(parseCidr(`${t2}/${c.p}`), null, 'host bits set');
          }
          // BlockList says whether y (same family, near the network half of the time) is inside.
          const bits = c.version === 4 ? 32n : 128n;
          const probe =
            (y & (2n ** bits - 1n)) % 2n === 0n ? network | (y & ~m & (2n ** bits - 1n)) : y % 2n ** bits;
          const probeIp: Ip = { version: c.version, value: probe };
          const probeText = c.version === 4 ? v4Text(probe) : formatIp(probeIp);
          if (c.version === 6 && probe >> 32n === 0xffffn) return; // BlockList maps these itself
          const bl = new BlockList();
          bl.addSubnet(text, c.p, c.version === 4 ? 'ipv4' : 'ipv6');
          assert.equal(cidrContains(parsed, probeIp), bl.check(probeText, c.version === 4 ? 'ipv4' : 'ipv6'));
        },
      ),
    },
    {
      name: 'CidrMap.lookup is the longest matching prefix, like a linear scan',
      weight: 2,
      property: fc.property(
        fc.array(fc.tuple(cidr, fc.nat(9)), { maxLength: 12 }),
        fc.array(fc.oneof(v4, v6), { maxLength: 12 }),
        (entries, probes) => {
          const map = new CidrMap<number>();
          const list: [Cidr, number][] = [];
          for (const [c, value] of entries) {
            const network = c.x & maskOf(c.version, c.p);
            const ce: Cidr = { version: c.version, network, prefix: c.p, text: '' };
            map.set(ce, value);
            list.push([ce, value]);
          }
          // Probe both random addresses and the networks themselves.
          const ips: Ip[] = [
            ...probes.map((p) => ({ version: (p < 2n ** 32n ? 4 : 6) as 4 | 6, value: p })),
            ...list.map(([c]) => ({ version: c.version, value: c.network })),
          ];
          for (const ip of ips) {
            let best: [Cidr, number] | undefined;
            // Two entries containing ip with the same prefix are the same network: the later set() wins.
            for (const e of list)
              if (cidrContains(e[0], ip) && (!best || e[0].prefix >= best[0].prefix)) best = e;
            assert.equal(map.lookup(ip), best?.[1]);
          }
        },
      ),
    },
  ],
};
