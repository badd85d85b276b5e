import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkedScanner, MALFORMED, NEED_MORE } from './chunked.ts';
import { MAX_HEAD, parseAbsoluteUri, parseBasic, parseRequestHead, splitHostPort } from './parse.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

test('parses a proxy request head and the fields a proxy acts on', () => {
  const h = parseRequestHead(
    b(
      'GET http://example.com:8080/a?b HTTP/1.1\r\nHost: example.com\r\nProxy-Authorization: Basic eDp5\r\nConnection: X-Hop, close\r\nContent-Length: 3\r\n\r\nabc',
    ),
  );
  assert.ok(h && typeof h === 'object');
  assert.equal(h.method, 'GET');
  assert.equal(h.target, 'http://example.com:8080/a?b');
  assert.equal(h.proxyAuthorization, 'Basic eDp5');
  assert.deepEqual(h.connection, ['x-hop', 'close']);
  assert.equal(h.keepAlive, false);
  assert.equal(h.contentLength, 3);
  assert.equal(
    h.length,
    b(
      'GET http://example.com:8080/a?b HTTP/1.1\r\nHost: example.com\r\nProxy-Authorization: Basic eDp5\r\nConnection: X-Hop, close\r\nContent-Length: 3\r\n\r\n',
    ).length,
  );
});

test('incomplete, too large, malformed', () => {
  assert.equal(parseRequestHead(b('GET http://x/ HTTP/1.1\r\nHost: x\r\n')), null);
  assert.equal(parseRequestHead(Buffer.alloc(MAX_HEAD, 0x61)), 'PC_ERR_HEADERS_TOO_LARGE');
  assert.equal(parseRequestHead(b('garbage\r\n\r\n')), 'PC_ERR_BAD_REQUEST');
  assert.equal(parseRequestHead(b('GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n')), 'PC_ERR_BAD_REQUEST');
  assert.equal(parseRequestHead(b('GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n')), 'PC_ERR_BAD_REQUEST');
  assert.equal(
    parseRequestHead(b('POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n')),
    'PC_ERR_BAD_REQUEST',
  );
  assert.equal(
    parseRequestHead(b('POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n')),
    'PC_ERR_BAD_REQUEST',
  );
});

test('Transfer-Encoding: only a final "chunked" token frames the body as chunked', () => {
  // "xchunked" ends with "chunked" but is an unknown coding: a next hop that does not
  // frame it as chunked would read our "body" as a second, smuggled request.
  for (const te of ['xchunked', 'gzip, xchunked', 'chunkedx', 'gzip', 'chunked, gzip'])
    assert.equal(
      parseRequestHead(b(`POST http://x/ HTTP/1.1\r\nTransfer-Encoding: ${te}\r\n\r\n`)),
      'PC_ERR_BAD_REQUEST',
      te,
    );
  for (const te of ['chunked', 'gzip, chunked', 'gzip ,\tChunked']) {
    const h = parseRequestHead(b(`POST http://x/ HTTP/1.1\r\nTransfer-Encoding: ${te}\r\n\r\n`));
    assert.ok(h && typeof h === 'object', te);
    assert.equal(h.chunked, true, te);
  }
});

test('optional whitespace is SP and HTAB only: other bytes at the edges stay in the value', () => {
  const h = parseRequestHead(b('GET http://x/ HTTP/1.1\r\nX-A: \t v\xa0\r\nX-B:\x0bw\x0c \r\n\r\n'));
  assert.ok(h && typeof h === 'object');
  assert.deepEqual(h.fields, ['X-A', 'v\xa0', 'X-B', '\x0bw\x0c']);
});

test('HTTP/1.0 defaults to close, keep-alive opts in', () => {
  const a = parseRequestHead(b('GET http://x/ HTTP/1.0\r\n\r\n'));
  const c = parseRequestHead(b('GET http://x/ HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n'));
  assert.ok(typeof a === 'object' && a && typeof c === 'object' && c);
  assert.equal(a.keepAlive, false);
  assert.equal(c.keepAlive, true);
});

test('absolute URIs, authorities and Basic credentials', () => {
  assert.deepEqual(parseAbsoluteUri('http://u:p@[::1]:81?x#f'), {
    host: '::1',
    port: 81,
    path: '/?x',
    authority: '[::1]:81',
  });
  assert.deepEqual(parseAbsoluteUri('HTTP://Example.com/p'), {
    host: 'Example.com',
    port: 80,
    path: '/p',
    authority: 'Example.com',
  });
  assert.equal(parseAbsoluteUri('https://x/'), null);
  assert.equal(parseAbsoluteUri('/relative'), null);
  assert.deepEqual(splitHostPort('a.b:443', 0), { host: 'a.b', port: 443 });
  assert.equal(splitHostPort('a.b:99999', 0), null);
  assert.equal(splitHostPort('::1:80', 0), null);
  assert.deepEqual(parseBasic(`Basic ${Buffer.from('al:ice:pw').toString('base64')}`), ['al', 'ice:pw']);
  assert.equal(parseBasic('Bearer x'), null);
});

test('chunked scanner finds the end across chunk boundaries', () => {
  const body = b('4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT');
  for (let cut = 1; cut < body.length - 4; cut++) {
    const s = new ChunkedScanner();
    assert.equal(s.scan(body.subarray(0, cut), 0), NEED_MORE, `cut ${cut}`);
    assert.equal(s.scan(body.subarray(cut), 0), body.length - 4 - cut, `cut ${cut}`);
  }
  assert.equal(new ChunkedScanner().scan(b('zz\r\n'), 0), MALFORMED);
  assert.equal(new ChunkedScanner().scan(b('3\r\nabcX'), 0), MALFORMED);
});
