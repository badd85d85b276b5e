// Properties of the HTTP request-head parser (src/gateway/http/parse.ts).
// The model below restates RFC 9112's rules the parser enforces, written
// independently of it: a generated head must parse to exactly what the model
// says, whatever the field order, case and optional whitespace; any bytes
// at all must give "need more", a catalog code, or a head that keeps the
// parser's own invariants; and a head split anywhere must parse the same.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_HEAD,
  parseAbsoluteUri,
  parseBasic,
  parseRequestHead,
  type RequestHead,
  splitHostPort,
} from '../../src/gateway/http/parse.ts';
import { cuts, hostileBytes, hostileText, type Suite } from './common.ts';

const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc.string({ unit: fc.constantFrom(...TCHAR), minLength: 1, maxLength: 12 });
/** field-content characters: visible ASCII and obs-text (latin1 0x80-0xff) */
const vchar = fc.oneof(
  fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
);
const ows = fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 2 });
/** a field value: no leading/trailing whitespace, inner SP/HTAB allowed */
const content = fc
  .array(fc.oneof({ arbitrary: vchar, weight: 6 }, { arbitrary: fc.constantFrom(' ', '\t'), weight: 1 }), {
    maxLength: 24,
  })
  .map((a) => a.join('').replace(/^[ \t]+|[ \t]+$/g, ''));

const mixedCase = (s: string) =>
  fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((up) =>
    s
      .split('')
      .map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase()))
      .join(''),
  );

const codings = fc.constantFrom('chunked', 'gzip', 'identity', 'xchunked', 'chunkedx', 'deflate', 'Chunked');
const teValue = fc
  .array(fc.tuple(codings, ows, ows), { minLength: 1, maxLength: 3 })
  .map((l) => l.map(([c, a, b]) => `${a}${c}${b}`).join(','));
const clValue = fc.oneof(
  fc.nat({ max: 10_000 }).map(String),
  fc.constantFrom('0', '007', '1,1', '-1', '1e3', ' 5', '9999999999999999', '123456789012345', '+1', '0x10'),
);
const connValue = fc
  .array(fc.oneof(token, fc.constantFrom('close', 'keep-alive', 'Keep-Alive', 'CLOSE', 'upgrade')), {
    minLength: 1,
    maxLength: 3,
  })
  .chain((ts) => fc.tuple(fc.constant(ts), fc.array(ows, { minLength: ts.length, maxLength: ts.length })))
  .map(([ts, sp]) => ts.map((t, i) => `${sp[i]}${t}`).join(','));

const field: fc.Arbitrary<[string, string]> = fc.oneof(
  { arbitrary: fc.tuple(token, content), weight: 4 },
  { arbitrary: fc.tuple(mixedCase('host'), content), weight: 1 },
  { arbitrary: fc.tuple(mixedCase('content-length'), clValue), weight: 2 },
  { arbitrary: fc.tuple(mixedCase('transfer-encoding'), teValue), weight: 2 },
  { arbitrary: fc.tuple(mixedCase('connection'), connValue), weight: 1 },
  { arbitrary: fc.tuple(mixedCase('proxy-connection'), connValue), weight: 1 },
  { arbitrary: fc.tuple(mixedCase('proxy-authorization'), content), weight: 1 },
);

const hostArb = fc.oneof(
  fc.ipV4(),
  fc.domain(),
  fc.ipV6().map((v) => `[${v}]`),
  fc.constantFrom('localhost', '2130706433', '0x7f.1', '127.1', '[::ffff:127.0.0.1]'),
);
const pathArb = fc.webPath().map((p) => p || '/');
const uriArb = fc
  .tuple(
    fc.constantFrom('http', 'HTTP', 'Http'),
    hostArb,
    fc.option(fc.integer({ min: 1, max: 65535 })),
    pathArb,
  )
  .map(([s, h, p, path]) => `${s}://${h}${p === null ? '' : `:${p}`}${path}`);

export interface GenHead {
  lead: string;
  method: string;
  target: string;
  minor: 0 | 1;
  fields: [string, string, string, string][]; // name, before, value, after
  body: string;
}

/** a request head's parts, any field order and case (the live fuzzer reuses it) */
export const headArb: fc.Arbitrary<GenHead> = fc.record({
  lead: fc.constantFrom('', '', '', '\r\n', '\r\n\r\n'),
  method: fc.oneof(fc.constantFrom('GET', 'POST', 'CONNECT', 'PUT', 'HEAD', 'OPTIONS'), token),
  target: fc.oneof(
    uriArb,
    fc.tuple(hostArb, fc.integer({ min: 0, max: 70000 })).map(([h, p]) => `${h}:${p}`),
    fc.string({
      unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: 1,
    }),
  ),
  minor: fc.constantFrom(0 as const, 1 as const),
  fields: fc.array(
    fc.tuple(field, ows, ows).map(([[n, v], a, b]) => [n, a, v, b] as [string, string, string, string]),
    { maxLength: 8 },
  ),
  body: fc.string({ unit: 'binary-ascii', maxLength: 20 }),
});

export function render(h: GenHead): string {
  const lines = [`${h.method} ${h.target} HTTP/1.${h.minor}`];
  for (const [n, a, v, b] of h.fields) lines.push(`${n}:${a}${v}${b}`);
  return `${h.lead}${lines.join('\r\n')}\r\n\r\n`;
}

const bytesOf = (s: string) => Buffer.from(s, 'latin1');
/** OWS is SP and HTAB only (RFC 9110 §5.6.3) */
const trimOws = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, '');

/** What RFC 9112 (as the gateway applies it) says a head parses to. */
function model(h: GenHead): Omit<RequestHead, 'fields' | 'length'> | 'PC_ERR_BAD_REQUEST' {
  let host: string | null = null;
  let auth: string | null = null;
  let cl = -1;
  let chunked = false;
  const connection: string[] = [];
  for (const [name, , raw] of h.fields) {
    const n = name.toLowerCase();
    const value = trimOws(raw);
    if (n === 'host') {
      if (host !== null) return 'PC_ERR_BAD_REQUEST';
      host = value;
    } else if (n === 'content-length') {
      if (!/^[0-9]{1,15}$/.test(value)) return 'PC_ERR_BAD_REQUEST';
      if (cl >= 0 && cl !== Number(value)) return 'PC_ERR_BAD_REQUEST';
      cl = Number(value);
    } else if (n === 'transfer-encoding') {
      // The final coding must be chunked (RFC 9112 §6.3 item 4), compared as a whole token.
      const codes = value.split(',').map((c) => trimOws(c).toLowerCase());
      if (codes[codes.length - 1] !== 'chunked') return 'PC_ERR_BAD_REQUEST';
      chunked = true;
    } else if (n === 'connection' || n === 'proxy-connection') {
      for (const t of value.split(',')) {
        const v = trimOws(t).toLowerCase();
        if (v) connection.push(v);
      }
    } else if (n === 'proxy-authorization') auth = value;
  }
  if (chunked && cl >= 0) return 'PC_ERR_BAD_REQUEST';
  const keepAlive = connection.includes('close')
    ? false
    : connection.includes('keep-alive')
      ? true
      : h.minor === 1;
  return {
    method: h.method,
    target: h.target,
    minor: h.minor,
    host,
    proxyAuthorization: auth,
    contentLength: cl,
    chunked,
    connection,
    keepAlive,
  };
}

const ERROR_CODES = new Set(['PC_ERR_BAD_REQUEST', 'PC_ERR_HEADERS_TOO_LARGE']);
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** What any result must satisfy, whatever the input. */
function checkInvariants(buf: Buffer, r: ReturnType<typeof parseRequestHead>): void {
  if (r === null) {
    // Need more: no end of head yet (stray CRLFs before a request skipped), and under the cap.
    let start = 0;
    while (buf[start] === 13 && buf[start + 1] === 10) start += 2;
    assert.ok(buf.indexOf('\r\n\r\n', start, 'latin1') < 0, 'a complete head is never "need more"');
    assert.ok(buf.length - start < MAX_HEAD, 'never "need more" at the size cap');
    return;
  }
  if (typeof r === 'string') {
    assert.ok(ERROR_CODES.has(r), r);
    return;
  }
  assert.ok(r.length >= 4 && r.length <= buf.length, 'length within the buffer');
  assert.equal(buf.toString('latin1', r.length - 4, r.length), '\r\n\r\n');
  assert.ok(TOKEN_RE.test(r.method));
  assert.ok(r.target.length > 0 && !/\s/.test(r.target));
  assert.equal(r.fields.length % 2, 0);
  for (let i = 0; i < r.fields.length; i += 2) {
    assert.ok(TOKEN_RE.test(r.fields[i]), `field name ${JSON.stringify(r.fields[i])}`);
    assert.ok(!/[\0\r\n]/.test(r.fields[i + 1]), 'no CR, LF or NUL in a value');
    assert.ok(!/^[ \t]|[ \t]$/.test(r.fields[i + 1]), 'values carry no optional whitespace');
  }
  assert.ok(Number.isSafeInteger(r.contentLength) && r.contentLength >= -1);
  assert.ok(!(r.chunked && r.contentLength >= 0), 'never both framings');
}

export const httpHeadSuite: Suite = {
  parser: 'HTTP request head',
  file: 'src/gateway/http/parse.ts',
  properties: [
    {
      name: 'any bytes: need-more, a catalog code, or a head keeping the invariants',
      weight: 3,
      property: fc.property(
        hostileBytes(
          headArb.map((h) => bytesOf(render(h) + h.body)),
          2048,
        ),
        (buf) => {
          const r = parseRequestHead(buf);
          checkInvariants(buf, r);
        },
      ),
    },
    {
      name: 'a generated head parses to what the RFC 9112 model says',
      weight: 3,
      property: fc.property(headArb, (h) => {
        const text = render(h);
        const r = parseRequestHead(bytesOf(text + h.body));
        const want = model(h);
        if (typeof want === 'string') {
          assert.equal(r, want);
          return;
        }
        assert.ok(r !== null && typeof r === 'object', `expected a head, got ${String(r)}`);
        const { fields, length, ...rest } = r;
        assert.deepEqual(rest, want);
        assert.equal(length, Buffer.byteLength(text, 'latin1'));
        assert.deepEqual(
          fields,
          h.fields.flatMap(([n, , v]) => [n, trimOws(v)]),
        );
      }),
    },
    {
      name: 'a head split anywhere: every proper prefix needs more, and extra bytes change nothing',
      weight: 2,
      property: fc.property(headArb, fc.array(fc.nat(), { maxLength: 4 }), (h, picks) => {
        const text = render(h);
        const whole = parseRequestHead(bytesOf(text));
        if (whole === null || typeof whole === 'string') return;
        for (const c of cuts(text.length, picks))
          assert.equal(parseRequestHead(bytesOf(text.slice(0, c))), null);
        assert.deepEqual(parseRequestHead(bytesOf(text + h.body + text)), whole);
      }),
    },
    {
      name: 'splitHostPort and parseAbsoluteUri: any text gives null or a valid host and port',
      weight: 2,
      property: fc.property(
        hostileText(
          fc.oneof(
            uriArb,
            hostArb.map((h) => `${h}:443`),
          ),
        ),
        fc.integer({ min: 0, max: 65536 }),
        (text, def) => {
          const hp = splitHostPort(text, def);
          if (hp) {
            assert.ok(hp.port >= 1 && hp.port <= 65535);
            assert.match(hp.host, /^[A-Za-z0-9.\-_:%]+$/);
          }
          const u = parseAbsoluteUri(text);
          if (u) {
            assert.ok(u.port >= 1 && u.port <= 65535);
            assert.match(u.host, /^[A-Za-z0-9.\-_:%]+$/);
            assert.equal(u.path[0], '/');
            assert.ok(!u.path.includes('#'));
            assert.ok(text.includes(u.authority));
          }
        },
      ),
    },
    {
      name: 'absolute URIs and authorities round-trip: host, port (default 80), path',
      property: fc.property(
        hostArb,
        fc.option(fc.integer({ min: 1, max: 65535 })),
        pathArb,
        fc.option(fc.constantFrom('user@', 'u:p@', '@')),
        (host, port, path, userinfo) => {
          const auth = `${host}${port === null ? '' : `:${port}`}`;
          const u = parseAbsoluteUri(`http://${userinfo ?? ''}${auth}${path}`);
          const bare = host.startsWith('[') ? host.slice(1, -1) : host;
          assert.deepEqual(u, {
            host: bare,
            port: port ?? 80,
            path: path.split('#')[0] || '/',
            authority: auth,
          });
          assert.deepEqual(splitHostPort(`${host}:${port ?? 1}`, 0), { host: bare, port: port ?? 1 });
        },
      ),
    },
    {
      name: 'Basic credentials round-trip (a colon splits user from password once)',
      property: fc.property(
        fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes(':') && s.isWellFormed()),
        fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => s.isWellFormed()),
        fc.constantFrom('Basic ', 'basic ', 'BASIC '),
        (user, pass, scheme) => {
          const v = `${scheme}${Buffer.from(`${user}:${pass}`).toString('base64')}`;
          assert.deepEqual(parseBasic(v), [user, pass]);
          assert.equal(parseBasic(`Bearer ${v.slice(6)}`), null);
        },
      ),
    },
  ],
};
