import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseUpstreamLine,
  parseUpstreamList,
  upstreamDisplay,
  upstreamIdentityText,
} from './upstream-line.ts';

function ok(line: string) {
  const r = parseUpstreamLine(line);
  assert.ok(r.ok, `expected "${line}" to parse, got ${r.ok ? '' : r.error}`);
  return r.spec;
}

function bad(line: string, pattern: RegExp) {
  const r = parseUpstreamLine(line);
  assert.equal(r.ok, false, `expected "${line}" to be refused`);
  if (!r.ok) assert.match(r.error, pattern, `"${line}": ${r.error}`);
}

describe('parseUpstreamLine: accepted formats', () => {
  it('host:port is an HTTP proxy without credentials', () => {
    assert.deepEqual(ok('1.2.3.4:8080'), {
      protocol: 'http',
      host: '1.2.3.4',
      port: 8080,
      username: null,
      password: null,
    });
  });

  it('host:port:user:pass, the password may hold colons and @', () => {
    assert.deepEqual(ok('proxy.example.com:3128:alice:s3cr:et'), {
      protocol: 'http',
      host: 'proxy.example.com',
      port: 3128,
      username: 'alice',
      password: 's3cr:et',
    });
    assert.equal(ok('1.2.3.4:80:bob:p@ss').password, 'p@ss');
  });

  it('user:pass@host:port', () => {
    const s = ok('alice:pw@10.0.0.1:1080');
    assert.equal(s.username, 'alice');
    assert.equal(s.password, 'pw');
    assert.equal(s.host, '10.0.0.1');
    assert.equal(s.port, 1080);
  });

  it('http:// and socks5:// URLs, with percent-encoded credentials', () => {
    assert.equal(ok('http://a:b@h.example:8080').protocol, 'http');
    const s = ok('socks5://us%40er:p%3Ass@5.6.7.8:1080');
    assert.equal(s.protocol, 'socks5');
    assert.equal(s.username, 'us@er');
    assert.equal(s.password, 'p:ss');
    assert.equal(ok('socks5h://5.6.7.8:1080').protocol, 'socks5');
    assert.equal(ok('HTTP://Host.Example:80/').host, 'host.example');
  });

  it('IPv6 hosts in brackets, in every form', () => {
    assert.equal(ok('[2001:db8::1]:8080').host, '2001:db8::1');
    assert.equal(ok('[::1]:3128:u:p').username, 'u');
    assert.equal(ok('u:p@[::1]:3128').host, '::1');
    assert.equal(ok('socks5://u:p@[2001:db8::2]:1080').port, 1080);
  });

  it('direct, case-insensitive', () => {
    assert.equal(ok('direct').protocol, 'direct');
    assert.equal(ok('DIRECT').protocol, 'direct');
  });
});

describe('parseUpstreamLine: malformed lines say why', () => {
  const cases: [string, RegExp][] = [
    ['1.2.3.4', /missing port/],
    ['1.2.3.4:', /missing port/],
    ['1.2.3.4:0', /out of range/],
    ['1.2.3.4:65536', /out of range/],
    ['1.2.3.4:80a', /not a port/],
    ['1.2.3.4:123456', /not a port/],
    ['1.2.3.4:80:user', /host:port or host:port:user:pass/],
    ['1.2.3.4:80::pass', /empty username/],
    ['1.2.3.4:80:user:', /empty password/],
    ['999.1.1.1:80', /not a valid IPv4/],
    ['1.2.3:80', /not a valid IPv4/],
    ['bad_host!:80', /not a valid host name/],
    ['-bad.example:80', /not a valid host name/],
    [':8080', /missing host/],
    ['2001:db8::1:8080', /brackets/],
    ['[2001:db8::1:8080', /unclosed/],
    ['[not-v6]:8080', /not a valid IPv6/],
    ['[::1]8080', /missing port after IPv6/],
    ['ftp://1.2.3.4:21', /unsupported scheme "ftp"/],
    ['https://1.2.3.4:443', /unsupported scheme "https"/],
    ['http://1.2.3.4:80/path', /unexpected path/],
    ['http://user@1.2.3.4:80', /user:pass/],
    ['http://:pw@1.2.3.4:80', /empty username/],
    ['http://u%zz:pw@1.2.3.4:80', /percent-encoding/],
    ['user:pass@', /missing port/],
    ['user:pass@1.2.3.4', /missing port/],
    ['1.2.3.4 :80', /whitespace/],
    ['socks5://', /missing port/],
    [`u:${'x'.repeat(300)}@1.2.3.4:80`, /longer than 255/],
  ];
  for (const [line, why] of cases) it(`refuses ${JSON.stringify(line.slice(0, 40))}`, () => bad(line, why));
});

describe('parseUpstreamList', () => {
  it('skips comments and blank lines and keeps 1-based line numbers', () => {
    const text =
      '# my proxies\n\n1.2.3.4:80\n  # indented comment\nhttp://a:b@5.6.7.8:3128  # office\r\ngarbage\n';
    const r = parseUpstreamList(text);
    assert.deepEqual(
      r.entries.map((e) => e.line),
      [3, 5],
    );
    assert.equal(r.entries[1].spec.password, 'b');
    assert.deepEqual(r.errors, [{ line: 6, error: 'missing port (expected host:port)' }]);
  });

  it('reports every malformed line, not only the first', () => {
    const r = parseUpstreamList('x\n1.2.3.4:80\ny:0\nz:99999\n');
    assert.deepEqual(
      r.errors.map((e) => e.line),
      [1, 3, 4],
    );
  });
});

describe('display and identity', () => {
  it('display text never carries the password', () => {
    const s = ok('http://user:secret@1.2.3.4:8080');
    assert.equal(upstreamDisplay(s), 'http://user@1.2.3.4:8080');
    assert.equal(upstreamDisplay(ok('[::1]:80')), 'http://[::1]:80');
    assert.equal(upstreamDisplay(ok('direct')), 'direct');
  });

  it('equal upstreams written differently have the same identity text', () => {
    assert.equal(
      upstreamIdentityText(ok('1.2.3.4:80:u:p')),
      upstreamIdentityText(ok('http://u:p@1.2.3.4:80')),
    );
    assert.notEqual(
      upstreamIdentityText(ok('1.2.3.4:80:u:p')),
      upstreamIdentityText(ok('socks5://u:p@1.2.3.4:80')),
    );
  });
});
