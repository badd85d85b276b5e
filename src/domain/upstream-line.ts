// The `proxy.txt` line formats of CONTRACT.md, parsed without I/O:
//   host:port                      host:port:user:pass
//   user:pass@host:port            http://user:pass@host:port
//   socks5://user:pass@host:port   direct
// IPv6 hosts go in brackets ([2001:db8::1]:8080). A line whose first non-blank
// character is `#` is a comment, as is anything after whitespace + `#`
// (passwords may contain `#`, but not after a space). Scheme-less lines are
// HTTP proxies, which is what resellers' lists mean by default.
import { isIPv4, isIPv6 } from 'node:net';
import type { UpstreamProtocol } from './policy.ts';

export interface UpstreamSpec {
  protocol: UpstreamProtocol;
  /** lower-case host name or IP, without brackets; '' for direct */
  host: string;
  /** 0 for direct */
  port: number;
  username: string | null;
  password: string | null;
}

export type LineResult = { ok: true; spec: UpstreamSpec } | { ok: false; error: string };

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

function badHost(host: string): string | null {
  if (host === '') return 'missing host';
  if (isIPv4(host)) return null;
  if (host.includes(':')) return isIPv6(host) ? null : `"${host}" is not a valid IPv6 address`;
  if (/^[\d.]+$/.test(host)) return `"${host}" is not a valid IPv4 address`;
  if (host.length > 253 || !host.split('.').every((l) => LABEL.test(l)))
    return `"${host}" is not a valid host name`;
  return null;
}

function parsePort(text: string): number | string {
  if (!/^\d{1,5}$/.test(text)) return text === '' ? 'missing port' : `"${text}" is not a port number`;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : `port ${n} is out of range 1-65535`;
}

/** "host:port" or "[v6]:port" → [host, port] or an error. */
function hostPort(text: string): { host: string; port: number } | string {
  let host: string;
  let rest: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return 'unclosed "[" around an IPv6 host';
    host = text.slice(1, close);
    if (!isIPv6(host)) return `"${host}" is not a valid IPv6 address`;
    rest = text.slice(close + 1);
    if (!rest.startsWith(':')) return 'missing port after IPv6 host';
    rest = rest.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return 'missing port (expected host:port)';
    host = text.slice(0, colon);
    rest = text.slice(colon + 1);
    if (host.includes(':')) return 'IPv6 hosts must be written in brackets, e.g. [2001:db8::1]:8080';
  }
  const port = parsePort(rest);
  if (typeof port === 'string') return port;
  const hostError = badHost(host.toLowerCase());
  if (hostError) return hostError;
  return { host: host.toLowerCase(), port };
}

function credentials(text: string, decode: boolean): { username: string; password: string } | string {
  const colon = text.indexOf(':');
  if (colon < 0) return 'credentials must be user:pass';
  let username = text.slice(0, colon);
  let password = text.slice(colon + 1);
  if (decode) {
    try {
      username = decodeURIComponent(username);
      password = decodeURIComponent(password);
    } catch {
      return 'malformed percent-encoding in credentials';
    }
  }
  if (username === '') return 'empty username';
  if (password === '') return 'empty password';
  if (username.length > 255 || password.length > 255) return 'username or password longer than 255 bytes';
  return { username, password };
}

/** Parses one non-comment, trimmed line. */
export function parseUpstreamLine(line: string): LineResult {
  const text = line.trim();
  if (text === '') return { ok: false, error: 'empty line' };
  if (/\s/.test(text)) return { ok: false, error: 'unexpected whitespace inside the line' };
  if (text.toLowerCase() === 'direct')
    return { ok: true, spec: { protocol: 'direct', host: '', port: 0, username: null, password: null } };

  let protocol: UpstreamProtocol = 'http';
  let body = text;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text);
  if (scheme) {
    const s = scheme[1].toLowerCase();
    if (s === 'http') protocol = 'http';
    // socks5h only asks the client to resolve remotely, which we always do.
    else if (s === 'socks5' || s === 'socks5h') protocol = 'socks5';
    else return { ok: false, error: `unsupported scheme "${s}" (expected http or socks5)` };
    body = text.slice(scheme[0].length).replace(/\/$/, '');
    if (body.includes('/')) return { ok: false, error: 'unexpected path after host:port' };
  }

  // "host:port:user:pass" wins over "user:pass@host:port" when the line starts
  // with host:port:, so a password containing "@" stays a password.
  const colonForm = !scheme && /^(\[[^\]]*\]|[^:@[]+):\d{1,5}:/.test(body);
  const at = colonForm ? -1 : body.lastIndexOf('@');
  if (at >= 0) {
    const creds = credentials(body.slice(0, at), scheme !== null);
    if (typeof creds === 'string') return { ok: false, error: creds };
    const hp = hostPort(body.slice(at + 1));
    if (typeof hp === 'string') return { ok: false, error: hp };
    return { ok: true, spec: { protocol, ...hp, ...creds } };
  }
  if (scheme) {
    const hp = hostPort(body);
    if (typeof hp === 'string') return { ok: false, error: hp };
    return { ok: true, spec: { protocol, ...hp, username: null, password: null } };
  }

  // Scheme-less: host:port or host:port:user:pass (the password may hold colons).
  let hpText = body;
  let credText: string | null = null;
  if (body.startsWith('[')) {
    const close = body.indexOf(']');
    const portColon = close < 0 ? -1 : body.indexOf(':', close);
    const afterPort = portColon < 0 ? -1 : body.indexOf(':', portColon + 1);
    if (afterPort > 0) {
      hpText = body.slice(0, afterPort);
      credText = body.slice(afterPort + 1);
    }
  } else {
    const parts = body.split(':');
    if (parts.length === 3) return { ok: false, error: 'expected host:port or host:port:user:pass' };
    if (parts.length > 3) {
      if (isIPv6(body.split('%')[0]))
        return { ok: false, error: 'IPv6 hosts must be written in brackets, e.g. [2001:db8::1]:8080' };
      hpText = `${parts[0]}:${parts[1]}`;
      credText = parts.slice(2).join(':');
    }
  }
  const hp = hostPort(hpText);
  if (typeof hp === 'string') return { ok: false, error: hp };
  if (credText === null) return { ok: true, spec: { protocol, ...hp, username: null, password: null } };
  const creds = credentials(credText, false);
  if (typeof creds === 'string') return { ok: false, error: creds };
  return { ok: true, spec: { protocol, ...hp, ...creds } };
}

export interface ParsedList {
  entries: { line: number; spec: UpstreamSpec }[];
  errors: { line: number; error: string }[];
}

/** Parses a whole file; line numbers are 1-based. Comments and blank lines are skipped. */
export function parseUpstreamList(text: string): ParsedList {
  const entries: ParsedList['entries'] = [];
  const errors: ParsedList['errors'] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const content = lines[i]
      .replace(/^\uFEFF/, '')
      .replace(/\s+#.*$/, '')
      .trim();
    if (content === '' || content.startsWith('#')) continue;
    const r = parseUpstreamLine(content);
    if (r.ok) entries.push({ line: i + 1, spec: r.spec });
    else errors.push({ line: i + 1, error: r.error });
  }
  return { entries, errors };
}

/** Display text without the password, e.g. "http://user@1.2.3.4:8080", "socks5://[::1]:1080", "direct". */
export function upstreamDisplay(s: Pick<UpstreamSpec, 'protocol' | 'host' | 'port' | 'username'>): string {
  if (s.protocol === 'direct') return 'direct';
  const host = s.host.includes(':') ? `[${s.host}]` : s.host;
  const user = s.username ? `${encodeURIComponent(s.username)}@` : '';
  return `${s.protocol}://${user}${host}:${s.port}`;
}

/** The text hashed (keyed) into an upstream's identity: equal specs, equal identity. */
export function upstreamIdentityText(s: UpstreamSpec): string {
  return [s.protocol, s.host, s.port, s.username ?? '', s.password ?? ''].join('|');
}
