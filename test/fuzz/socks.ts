// Properties of the SOCKS handshake parsers (src/gateway/socks4.ts,
// src/gateway/socks5/messages.ts). They are incremental: called on the bytes
// read so far, they answer "need more" (null), a message and the bytes it
// used, or throw a PcError for garbage. Whatever the bytes, nothing else may
// happen; a message must parse the same however TCP splits it; and what a
// client encodes is what the gateway reads.
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { parseIp } from '../../src/domain/cidr.ts';
import { isPcError } from '../../src/errors.ts';
import { parseSocks4Request } from '../../src/gateway/socks4.ts';
import { parseGreeting, parseRequest, parseUserPass } from '../../src/gateway/socks5/messages.ts';
import { cuts, hostileBytes, type Suite } from './common.ts';

type Parser<T> = (buf: Buffer) => { value: T; used: number } | null;

/** Runs a parser the way readReply does: a result, null, or a PcError (anything else is a bug). */
function attempt<T>(parse: Parser<T>, buf: Buffer): { value: T; used: number } | null | 'refused' {
  try {
    const r = parse(buf);
    if (r) {
      assert.ok(
        Number.isInteger(r.used) && r.used >= 1 && r.used <= buf.length,
        `used ${r.used} of ${buf.length}`,
      );
    }
    return r;
  } catch (e) {
    assert.ok(isPcError(e), `threw a non-catalog error: ${String(e)}`);
    assert.equal(e.code, 'PC_ERR_BAD_REQUEST');
    return 'refused';
  }
}

/**
 * The incremental contract: every proper prefix of a complete message needs
 * more (or is already refused, never accepted), and bytes after it change nothing.
 */
function splitsAlike<T>(parse: Parser<T>, msg: Buffer, picks: number[], extra: Buffer): void {
  const whole = attempt(parse, msg);
  for (const c of cuts(msg.length, picks)) {
    const part = attempt(parse, msg.subarray(0, c));
    if (whole === 'refused') assert.ok(part === null || part === 'refused');
    else assert.equal(part, null, `prefix ${c} of ${msg.length}`);
  }
  if (whole !== null && whole !== 'refused') {
    const more = attempt(parse, Buffer.concat([msg, extra]));
    assert.deepEqual(more, whole, 'bytes after the message change nothing');
  }
}

const port = fc.integer({ min: 0, max: 65535 });
const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);
/** strings without NUL, as UTF-8 */
const noNul = (max: number) =>
  fc.string({ unit: 'binary', maxLength: max }).filter((s) => !s.includes('\0') && s.isWellFormed());
const latinName = (min: number, max: number) =>
  fc
    .uint8Array({ minLength: min, maxLength: max })
    .map((a) => Buffer.from(a.map((c) => (c === 0 ? 0x2e : c))).toString('latin1'));

// ---- SOCKS4 / 4a ------------------------------------------------------------

export const s4 = fc.record({
  cmd: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 255 })),
  port,
  ip: fc.oneof(
    fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)),
    fc.constant<[number, number, number, number]>([127, 0, 0, 1]),
  ),
  name: fc.option(
    fc.oneof({ arbitrary: latinName(1, 80), weight: 9 }, { arbitrary: latinName(500, 530), weight: 1 }),
  ),
  userid: fc.oneof(
    { arbitrary: noNul(60), weight: 9 },
    { arbitrary: fc.string({ minLength: 500, maxLength: 530 }), weight: 1 },
  ),
});
export type S4 = typeof s4 extends fc.Arbitrary<infer T> ? T : never;

export function encode4(m: S4): Buffer {
  const ip = m.name === null ? m.ip : [0, 0, 0, 1 + (m.ip[3] % 255)];
  const parts = [
    Buffer.from([4, m.cmd]),
    u16(m.port),
    Buffer.from(ip),
    Buffer.from(m.userid, 'utf8'),
    Buffer.from([0]),
  ];
  if (m.name !== null) parts.push(Buffer.from(m.name, 'latin1'), Buffer.from([0]));
  return Buffer.concat(parts);
}

export const socks4Suite: Suite = {
  parser: 'SOCKS4/4a request',
  file: 'src/gateway/socks4.ts',
  properties: [
    {
      name: 'any bytes: need-more, a request within the buffer, or a catalog refusal',
      weight: 3,
      property: fc.property(hostileBytes(s4.map(encode4), 1200), (buf) => {
        const r = attempt(parseSocks4Request, buf);
        if (r && r !== 'refused') {
          assert.ok(r.value.host.length > 0);
          assert.ok(r.value.port >= 0 && r.value.port <= 65535);
        }
      }),
    },
    {
      name: 'a request (4 and 4a) reads back as encoded, with the bytes it used; fields over 512 bytes are refused',
      weight: 2,
      property: fc.property(s4, (m) => {
        const bytes = encode4(m);
        if (Buffer.byteLength(m.userid) > 512 || (m.name?.length ?? 0) > 512) {
          assert.equal(attempt(parseSocks4Request, bytes), 'refused', 'fields are at most 512 bytes');
          return;
        }
        const r = parseSocks4Request(bytes);
        assert.deepEqual(r, {
          value: {
            cmd: m.cmd,
            port: m.port,
            host: m.name ?? m.ip.join('.'),
            userid: m.userid,
          },
          used: bytes.length,
        });
      }),
    },
    {
      name: 'split anywhere: prefixes need more, trailing bytes stay unread',
      weight: 2,
      property: fc.property(
        s4,
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.uint8Array({ maxLength: 8 }),
        (m, picks, x) => splitsAlike(parseSocks4Request, encode4(m), picks, Buffer.from(x)),
      ),
    },
    {
      name: 'an over-long USERID or 4a name is refused whether or not its NUL has arrived',
      property: fc.property(
        fc.integer({ min: 513, max: 2000 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 3 }),
        (len, inName, picks) => {
          const long = Buffer.alloc(len, 0x61);
          const msg = inName
            ? Buffer.concat([
                Buffer.from([4, 1, 0, 80, 0, 0, 0, 1]),
                Buffer.from('u:p\0'),
                long,
                Buffer.from([0]),
              ])
            : Buffer.concat([Buffer.from([4, 1, 0, 80, 1, 2, 3, 4]), long, Buffer.from([0])]);
          assert.equal(attempt(parseSocks4Request, msg), 'refused');
          splitsAlike(parseSocks4Request, msg, picks, Buffer.alloc(0));
        },
      ),
    },
  ],
};

// ---- SOCKS5 ---------------------------------------------------------------

const greeting = fc.uint8Array({ maxLength: 255 }).map((m) => Buffer.from([5, m.length, ...m]));
const userPass = fc
  .tuple(noNul(40), noNul(40))
  .filter(([u, p]) => Buffer.byteLength(u) < 256 && Buffer.byteLength(p) < 256);
const encodeUP = ([u, p]: [string, string]) => {
  const ub = Buffer.from(u, 'utf8');
  const pb = Buffer.from(p, 'utf8');
  return Buffer.concat([Buffer.from([1, ub.length]), ub, Buffer.from([pb.length]), pb]);
};

export const req5 = fc.record({
  cmd: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 255 })),
  rsv: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
  addr: fc.oneof(
    fc.tuple(fc.constant(1), fc.uint8Array({ minLength: 4, maxLength: 4 })),
    fc.tuple(fc.constant(3), fc.uint8Array({ minLength: 1, maxLength: 255 })),
    fc.tuple(fc.constant(4), fc.uint8Array({ minLength: 16, maxLength: 16 })),
  ),
  port,
});
export type R5 = typeof req5 extends fc.Arbitrary<infer T> ? T : never;
export const encodeReq = (r: R5) => {
  const [atyp, a] = r.addr;
  const addr = atyp === 3 ? Buffer.concat([Buffer.from([a.length]), Buffer.from(a)]) : Buffer.from(a);
  return Buffer.concat([Buffer.from([5, r.cmd, r.rsv, atyp]), addr, u16(r.port)]);
};

const anyMessage = fc.oneof(greeting, userPass.map(encodeUP), req5.map(encodeReq));

export const socks5Suite: Suite = {
  parser: 'SOCKS5 greeting, RFC 1929 auth, request',
  file: 'src/gateway/socks5/messages.ts',
  properties: [
    {
      name: 'any bytes into each of the three parsers: need-more, a message, or a catalog refusal',
      weight: 3,
      property: fc.property(hostileBytes(anyMessage, 600), (buf) => {
        attempt(parseGreeting, buf);
        attempt(parseUserPass, buf);
        const r = attempt(parseRequest, buf);
        if (r && r !== 'refused' && r.value.atyp !== 0) {
          assert.ok(r.value.host.length > 0);
          if (r.value.atyp === 4) assert.ok(isIPv6(r.value.host));
        }
      }),
    },
    {
      name: 'greeting, auth and request read back as encoded',
      weight: 2,
      property: fc.property(greeting, userPass, req5, (g, up, r) => {
        assert.deepEqual(parseGreeting(g), { value: g.subarray(2), used: g.length });
        const upb = encodeUP(up);
        assert.deepEqual(parseUserPass(upb), {
          value: { username: up[0], password: up[1] },
          used: upb.length,
        });
        const rb = encodeReq(r);
        const got = parseRequest(rb);
        const [atyp, a] = r.addr;
        if (atyp === 3 && a.length === 0) return;
        assert.ok(got);
        assert.equal(got.used, rb.length);
        assert.equal(got.value.cmd, r.cmd);
        assert.equal(got.value.port, r.port);
        assert.equal(got.value.atyp, atyp);
        if (atyp === 1) assert.equal(got.value.host, [...a].join('.'));
        if (atyp === 3) assert.equal(got.value.host, Buffer.from(a).toString('latin1'));
        if (atyp === 4) {
          // The text is an IPv6 address whose 128 bits are the ones sent
          // (mapped ::ffff:a.b.c.d reads as the IPv4 address, as the egress guard wants).
          const ip = parseIp(got.value.host);
          assert.ok(ip);
          const bits = BigInt(`0x${Buffer.from(a).toString('hex')}`);
          if (bits >> 32n === 0xffffn) assert.deepEqual(ip, { version: 4, value: bits & 0xffffffffn });
          else assert.deepEqual(ip, { version: 6, value: bits });
        }
      }),
    },
    {
      name: 'split anywhere: prefixes need more, trailing bytes stay unread',
      weight: 2,
      property: fc.property(
        greeting,
        userPass,
        req5,
        fc.array(fc.nat(), { maxLength: 3 }),
        fc.uint8Array({ maxLength: 8 }),
        (g, up, r, picks, x) => {
          const extra = Buffer.from(x);
          splitsAlike(parseGreeting, g, picks, extra);
          splitsAlike(parseUserPass, encodeUP(up), picks, extra);
          splitsAlike(parseRequest, encodeReq(r), picks, extra);
        },
      ),
    },
  ],
};
