// A small HTTP/1.1 request-head parser (RFC 9112 §2-5). It only finds the
// end of the head, splits the request line and the header fields, and pulls
// out the few fields a proxy acts on; bodies are framed elsewhere and relayed
// as bytes. One latin1 string per head and one array of fields: no per-byte
// work in JavaScript (Buffer.indexOf finds the end natively).
import type { ErrorCode } from '../../errors.ts';

export const MAX_HEAD = 16 * 1024;

export interface RequestHead {
  method: string;
  /** request-target as sent: absolute-URI, authority (CONNECT) or origin-form */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 */
  minor: number;
  /** [name, value, name, value, ...] as received (names keep their case) */
  fields: string[];
  /** bytes the head took in the buffer, CRLFCRLF included */
  length: number;
  host: string | null;
  proxyAuthorization: string | null;
  /** -1 when absent */
  contentLength: number;
  chunked: boolean;
  /** lower-cased tokens of the Connection (and Proxy-Connection) fields */
  connection: string[];
  keepAlive: boolean;
}

export type ParseResult = RequestHead | ErrorCode | null;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\0\r\n]/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.([01])$/;

/**
 * Parses the head at the start of `buf`. Null: incomplete (read more, unless
 * `buf` already holds MAX_HEAD bytes: then 'PC_ERR_HEADERS_TOO_LARGE').
 */
export function parseRequestHead(buf: Buffer): ParseResult {
  // Tolerate stray CRLFs before a request (RFC 9112 §2.2).
  let start = 0;
  while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
  const end = buf.indexOf('\r\n\r\n', start, 'latin1');
  if (end < 0 || end + 4 > MAX_HEAD + start) {
    return buf.length - start >= MAX_HEAD ? 'PC_ERR_HEADERS_TOO_LARGE' : null;
  }
  const text = buf.toString('latin1', start, end);
  const lines = text.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]);
  if (!m) return 'PC_ERR_BAD_REQUEST';
  const head: RequestHead = {
    method: m[1],
    target: m[2],
    minor: m[3] === '1' ? 1 : 0,
    fields: [],
    length: end + 4,
    host: null,
    proxyAuthorization: null,
    contentLength: -1,
    chunked: false,
    connection: [],
    keepAlive: m[3] === '1',
  };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    // No obs-fold, no whitespace before the colon (RFC 9112 §5.1, §5.2): both smuggle.
    if (colon <= 0) return 'PC_ERR_BAD_REQUEST';
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return 'PC_ERR_BAD_REQUEST';
    const value = trimOws(line.slice(colon + 1));
    if (BAD_VALUE.test(value)) return 'PC_ERR_BAD_REQUEST';
    head.fields.push(name, value);
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') {
          if (head.host !== null) return 'PC_ERR_BAD_REQUEST';
          head.host = value;
        }
        break;
      case 10:
        if (name.toLowerCase() === 'connection') addTokens(head.connection, value);
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          if (!/^\d{1,15}$/.test(value)) return 'PC_ERR_BAD_REQUEST';
          const n = Number(value);
          if (head.contentLength >= 0 && head.contentLength !== n) return 'PC_ERR_BAD_REQUEST';
          head.contentLength = n;
        }
        break;
      case 16:
        if (name.toLowerCase() === 'proxy-connection') addTokens(head.connection, value);
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          // Only "chunked" as the final coding is a framing we can relay (RFC 9112 §6.3),
          // compared as a whole token: "xchunked" is an unknown coding, not chunked, and
          // framing it as chunked would let the next hop read the body as another request.
          const last = trimOws(value.slice(value.lastIndexOf(',') + 1)).toLowerCase();
          if (last !== 'chunked') return 'PC_ERR_BAD_REQUEST';
          head.chunked = true;
        }
        break;
      case 19:
        if (name.toLowerCase() === 'proxy-authorization') head.proxyAuthorization = value;
        break;
    }
  }
  // Both framings at once is the classic smuggling vector: refuse (RFC 9112 §6.3 item 3).
  if (head.chunked && head.contentLength >= 0) return 'PC_ERR_BAD_REQUEST';
  if (head.connection.includes('close')) head.keepAlive = false;
  else if (head.connection.includes('keep-alive')) head.keepAlive = true;
  return head;
}

/**
 * Strips optional whitespace, which is SP and HTAB only (RFC 9110 §5.6.3):
 * String.trim() would also eat NBSP (0xA0 in latin1), VT and FF, changing
 * the value we forward.
 */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function addTokens(out: string[], value: string): void {
  for (const t of value.split(',')) {
    const v = trimOws(t).toLowerCase();
    if (v) out.push(v);
  }
}

/** Decodes `Basic <base64>` into [username, password]; null when malformed. */
export function parseBasic(value: string): [string, string] | null {
  if (value.length < 7 || value.slice(0, 6).toLowerCase() !== 'basic ') return null;
  const raw = Buffer.from(value.slice(6).trim(), 'base64').toString('utf8');
  const i = raw.indexOf(':');
  if (i < 0) return null;
  return [raw.slice(0, i), raw.slice(i + 1)];
}

/** Splits "host:port" / "[v6]:port"; port defaults to `defPort`; null when malformed. */
export function splitHostPort(text: string, defPort: number): { host: string; port: number } | null {
  let host: string;
  let portText = '';
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest) {
      if (rest[0] !== ':') return null;
      portText = rest.slice(1);
    }
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      if (text.indexOf(':') !== colon) return null; // bare IPv6 without brackets
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    } else host = text;
  }
  if (!host || !/^[A-Za-z0-9.\-_:%]+$/.test(host)) return null;
  let port = defPort;
  if (portText) {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
  }
  if (port < 1 || port > 65535) return null;
  return { host, port };
}

export interface AbsoluteUri {
  host: string;
  port: number;
  /** origin-form: path and query, "/" when empty */
  path: string;
  /** authority as written (for the Host field) */
  authority: string;
}

/** "http://host[:port]/path?q" -> parts; null for other schemes or malformed. */
export function parseAbsoluteUri(target: string): AbsoluteUri | null {
  if (target.length < 8 || target.slice(0, 7).toLowerCase() !== 'http://') return null;
  let end = 7;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35) break; // / ? #
    end++;
  }
  let authority = target.slice(7, end);
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1); // userinfo is not for the origin
  const hp = splitHostPort(authority, 80);
  if (!hp) return null;
  let path = target.slice(end);
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  if (!path || path[0] === '?') path = `/${path}`;
  return { host: hp.host, port: hp.port, path, authority };
}
