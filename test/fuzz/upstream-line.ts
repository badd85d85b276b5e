// Properties of the upstream list parser (src/domain/upstream-line.ts), which
// reads files operators paste from resellers. Any text: a spec or an error
// message, never an exception, and a spec always usable (valid port, host
// lower-cased, both credentials or none, each at most 255). Each documented
// line format, generated, reads back as the spec written; a whole file keeps
// its line numbers through comments, blank lines and CRLF.
import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { formatIp } from '../../src/domain/cidr.ts';
import { parseUpstreamLine, parseUpstreamList, type UpstreamSpec } from '../../src/domain/upstream-line.ts';
import { hostileText, type Suite } from './common.ts';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = `${LOWER}${LOWER.toUpperCase()}0123456789_`;
const label = fc
  .tuple(
    fc.constantFrom(...ALNUM),
    fc.string({ unit: fc.constantFrom(...ALNUM, '-'), maxLength: 10 }),
    fc.constantFrom(...ALNUM),
  )
  .map(([a, mid, b]) => (mid === '' ? a : `${a}${mid}${b}`));
/** a host name with at least one letter (all-digit names must be IPv4 addresses) */
const domain = fc
  .tuple(fc.array(label, { minLength: 1, maxLength: 4 }), fc.constantFrom(...LOWER))
  .map(([ls, c]) => [...ls, `${c}${ls.length}`].join('.'));
const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
const v6 = fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }).map((x) => formatIp({ version: 6, value: x }));
const host = fc.oneof(
  domain.map((h) => ({ text: h, host: h.toLowerCase() })),
  v4.map((h) => ({ text: h, host: h })),
  v6.map((h) => ({ text: `[${h.toUpperCase()}]`, host: h })),
);
const port = fc.integer({ min: 1, max: 65535 });

const SAFE = `${ALNUM}!$%&*+,.;=~-`;
/** scheme-less credentials: no blanks, no ':' in the user; the password may hold ':' and '@' */
const plainUser = fc.string({ unit: fc.constantFrom(...SAFE), minLength: 1, maxLength: 30 });
const plainPass = fc.string({
  unit: fc.constantFrom(...SAFE, ':', '@', '#', '/'),
  minLength: 1,
  maxLength: 30,
});
/** URL-form credentials: anything, percent-encoded */
const anyCred = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), weight: 9 },
  { arbitrary: fc.string({ minLength: 250, maxLength: 260 }), weight: 1 },
);

interface Line {
  text: string;
  want: UpstreamSpec | 'error';
}

const spec = (
  protocol: UpstreamSpec['protocol'],
  h: string,
  p: number,
  u: string | null = null,
  pw: string | null = null,
): UpstreamSpec => ({ protocol, host: h, port: p, username: u, password: pw });

const lineArb: fc.Arbitrary<Line> = fc.oneof(
  // host:port
  fc.tuple(host, port).map(([h, p]) => ({ text: `${h.text}:${p}`, want: spec('http', h.host, p) })),
  // host:port:user:pass
  fc
    .tuple(host, port, plainUser, plainPass)
    .filter(([h, p, u, pw]) => !isIPv6(`${h.text}:${p}:${u}:${pw}`.split('%')[0]))
    .map(([h, p, u, pw]) => ({ text: `${h.text}:${p}:${u}:${pw}`, want: spec('http', h.host, p, u, pw) })),
  // user:pass@host:port (a password that starts like a port, "123:", would read as host:port:user:pass)
  fc
    .tuple(host, port, plainUser, plainPass)
    .filter(([, , , pw]) => !/^\d{1,5}:/.test(pw) && !pw.startsWith('//'))
    .map(([h, p, u, pw]) => ({ text: `${u}:${pw}@${h.text}:${p}`, want: spec('http', h.host, p, u, pw) })),
  // scheme://[user:pass@]host:port[/]
  fc
    .tuple(
      fc.constantFrom('http', 'HTTP', 'socks5', 'SOCKS5', 'socks5h'),
      host,
      port,
      fc.option(fc.tuple(anyCred, anyCred).filter(([u, pw]) => u.isWellFormed() && pw.isWellFormed())),
      fc.constantFrom('', '/'),
    )
    .map(([s, h, p, creds, slash]) => {
      const protocol = s.toLowerCase().startsWith('socks') ? 'socks5' : 'http';
      const userinfo = creds ? `${encodeURIComponent(creds[0])}:${encodeURIComponent(creds[1])}@` : '';
      const tooLong = creds !== null && (creds[0].length > 255 || creds[1].length > 255);
      return {
        text: `${s}://${userinfo}${h.text}:${p}${slash}`,
        want: tooLong
          ? ('error' as const)
          : spec(protocol, h.host, p, creds?.[0] ?? null, creds?.[1] ?? null),
      };
    }),
  fc.constantFrom('direct', 'DIRECT', 'Direct').map((t) => ({ text: t, want: spec('direct', '', 0) })),
  // shapes that must be refused
  fc
    .tuple(
      host,
      fc.constantFrom(':0', ':65536', ':', ':80:u', ':http', ':80:u:'),
      fc.constantFrom('', 'ftp://', 'socks4://'),
    )
    .map(([h, tail, scheme]) => ({ text: `${scheme}${h.text}${tail}`, want: 'error' as const })),
);

function checkSpec(s: UpstreamSpec): void {
  assert.ok(['http', 'socks5', 'direct'].includes(s.protocol));
  if (s.protocol === 'direct') {
    assert.deepEqual(s, spec('direct', '', 0));
    return;
  }
  assert.ok(s.port >= 1 && s.port <= 65535 && Number.isInteger(s.port));
  assert.ok(s.host.length > 0 && s.host === s.host.toLowerCase() && !/[\s[\]@/]/.test(s.host), s.host);
  assert.ok(isIPv4(s.host) || isIPv6(s.host) || !s.host.includes(':'));
  assert.equal(s.username === null, s.password === null, 'both credentials or none');
  if (s.username !== null && s.password !== null) {
    assert.ok(s.username.length >= 1 && s.username.length <= 255);
    assert.ok(s.password.length >= 1 && s.password.length <= 255);
  }
}

export const upstreamLineSuite: Suite = {
  parser: 'upstream list (proxy.txt lines)',
  file: 'src/domain/upstream-line.ts',
  properties: [
    {
      name: 'any line: a usable spec or an error message, never an exception',
      weight: 3,
      property: fc.property(hostileText(lineArb.map((l) => l.text)), (t) => {
        const r = parseUpstreamLine(t);
        if (r.ok) checkSpec(r.spec);
        else assert.ok(typeof r.error === 'string' && r.error.length > 0);
      }),
    },
    {
      name: 'every documented line format reads back as the spec written',
      weight: 3,
      property: fc.property(lineArb, fc.constantFrom('', ' ', '\t'), (l, pad) => {
        const r = parseUpstreamLine(`${pad}${l.text}${pad}`);
        if (l.want === 'error') assert.equal(r.ok, false, `${l.text} should be refused`);
        else assert.deepEqual(r, { ok: true, spec: l.want }, l.text);
      }),
    },
    {
      name: 'a whole file: line numbers survive comments, blanks, BOM and CRLF',
      weight: 2,
      property: fc.property(
        fc.array(
          fc.oneof(
            { arbitrary: lineArb.filter((l) => !/[\s#]/.test(l.text)), weight: 4 },
            {
              arbitrary: fc
                .constantFrom('', '   ', '# a comment', '  # indented comment')
                .map((text) => ({ text, want: null })),
              weight: 1,
            },
          ),
          { maxLength: 20 },
        ),
        fc.boolean(),
        fc.boolean(),
        (lines, crlf, bom) => {
          const file = (bom ? '\uFEFF' : '') + lines.map((l) => l.text).join(crlf ? '\r\n' : '\n');
          const { entries, errors } = parseUpstreamList(file);
          const wantEntries: { line: number; spec: UpstreamSpec }[] = [];
          const wantErrors: number[] = [];
          lines.forEach((l, i) => {
            if (l.want === null) return;
            if (l.want === 'error') wantErrors.push(i + 1);
            else wantEntries.push({ line: i + 1, spec: l.want });
          });
          assert.deepEqual(entries, wantEntries);
          assert.deepEqual(
            errors.map((e) => e.line),
            wantErrors,
          );
        },
      ),
    },
    {
      name: 'any file: one entry or one error per non-comment line, in order',
      property: fc.property(
        fc.array(hostileText(lineArb.map((l) => l.text)), { maxLength: 12 }).map((ls) => ls.join('\n')),
        (file) => {
          const { entries, errors } = parseUpstreamList(file);
          const lines = [...entries.map((e) => e.line), ...errors.map((e) => e.line)];
          assert.equal(new Set(lines).size, lines.length, 'a line is an entry or an error, once');
          const total = file.split(/\r?\n/).length;
          for (const n of lines) assert.ok(Number.isInteger(n) && n >= 1 && n <= total);
          for (let i = 1; i < entries.length; i++) assert.ok(entries[i].line > entries[i - 1].line);
          for (const e of entries) checkSpec(e.spec);
        },
      ),
    },
  ],
};
