// Forwarded (non-CONNECT) HTTP requests: the request head rewritten for the
// next hop, and a "leg" — one upstream connection carrying a keep-alive
// client connection's requests — that frames the responses so we know where
// each ends (Content-Length, chunked, bodyless, close-delimited; RFC 9112
// §6.3). Response bytes are relayed exactly as received, one write per chunk.
//
// Two modes: to an HTTP upstream proxy (absolute-form target, our Basic
// credentials in Proxy-Authorization; the leg serves every host), or straight
// to the origin through a tunnel (origin-form; the leg serves one host:port).
import type net from 'node:net';
import { type ErrorCode, fromErrno } from '../../errors.ts';
import { ChunkedScanner, MALFORMED, NEED_MORE } from './chunked.ts';
import type { AbsoluteUri, RequestHead } from './parse.ts';
import { bodyless, parseResponseHead } from './response.ts';

const MAX_RESPONSE_HEAD = 64 * 1024;

/** Is this request field hop-by-hop (RFC 9110 §7.6.1), or one we replace (Host)? */
function dropField(name: string, connectionTokens: string[]): boolean {
  switch (name.length) {
    case 2:
      if (name.toLowerCase() === 'te') return true;
      break;
    case 4:
      if (name.toLowerCase() === 'host') return true;
      break;
    case 7:
      if (name.toLowerCase() === 'upgrade') return true;
      break;
    case 10: {
      const l = name.toLowerCase();
      if (l === 'connection' || l === 'keep-alive') return true;
      break;
    }
    case 16:
      if (name.toLowerCase() === 'proxy-connection') return true;
      break;
    case 19:
      if (name.toLowerCase() === 'proxy-authorization') return true;
      break;
  }
  // Fields the client named in Connection are hop-by-hop too.
  for (let i = 0; i < connectionTokens.length; i++) {
    const t = connectionTokens[i];
    if (t.length === name.length && t !== 'close' && t !== 'keep-alive' && t === name.toLowerCase())
      return true;
  }
  return false;
}

/** The head we send to the next hop. Transfer-Encoding stays: the body is relayed with its framing. */
export function requestHead(
  h: RequestHead,
  uri: AbsoluteUri,
  proxyMode: boolean,
  basic: string | null,
): string {
  let s = `${h.method} ${proxyMode ? h.target : uri.path} HTTP/1.1\r\nHost: ${uri.authority}\r\n`;
  const f = h.fields;
  for (let i = 0; i < f.length; i += 2) {
    if (!dropField(f[i], h.connection)) s += `${f[i]}: ${f[i + 1]}\r\n`;
  }
  if (proxyMode && basic) s += `Proxy-Authorization: ${basic}\r\n`;
  return s + (h.keepAlive ? 'Connection: keep-alive\r\n\r\n' : 'Connection: close\r\n\r\n');
}

export interface LegEvents {
  /** one or more responses completed; check leg.pending */
  responses(): void;
  /** the upstream (proxy mode) refused our credentials with 407 before any byte went to the client */
  upstreamAuth(): void;
  /** the leg failed before any byte of the current response reached the client */
  failed(code: ErrorCode, detail: string): void;
  /** the leg failed mid-response (the client must see an abort), or sent garbage */
  aborted(): void;
  /** a close-delimited response ended with the upstream's close */
  closeEnded(): void;
  /** the leg closed while idle (a keep-alive timeout of the origin) */
  idleClosed(): void;
}

export interface Leg {
  key: string;
  label: string;
  socket: net.Socket;
  proxyMode: boolean;
  /** methods of requests sent whose responses have not ended */
  pending: string[];
  /** will not carry another request (closing, or the last response said close) */
  dead: boolean;
  retire(): void;
}

const HEAD = 0;
const LENGTH = 1;
const CHUNKED = 2;
const UNTIL_CLOSE = 3;

export function attachLeg(
  client: net.Socket,
  up: net.Socket,
  key: string,
  label: string,
  proxyMode: boolean,
  idleMs: number,
  ev: LegEvents,
): Leg {
  let st = HEAD;
  let left = 0;
  let started = false;
  let retired = false;
  let lastError: NodeJS.ErrnoException | null = null;
  let keepAlive = true;
  let partial: Buffer | null = null;
  const scanner = new ChunkedScanner();

  const leg: Leg = {
    key,
    label,
    socket: up,
    proxyMode,
    pending: [],
    dead: false,
    retire() {
      retired = true;
      leg.dead = true;
      up.destroy();
    },
  };

  let timedOut = false;
  up.setTimeout(idleMs, () => {
    timedOut = true;
    up.destroy();
  });
  up.on('error', (e: NodeJS.ErrnoException) => {
    lastError = e;
  });
  up.on('drain', () => client.resume());

  up.on('data', (chunk: Buffer) => {
    const buf = partial ? Buffer.concat([partial, chunk]) : chunk;
    partial = null;
    let off = 0;
    let ended = 0;
    let keep = buf.length; // bytes [0, keep) go to the client
    while (off < buf.length) {
      if (leg.pending.length === 0 || leg.dead) {
        // Bytes nobody asked for: the upstream is out of step with us.
        up.destroy();
        ev.aborted();
        return;
      }
      if (st === HEAD) {
        const e = buf.indexOf('\r\n\r\n', off, 'latin1');
        if (e < 0) {
          if (buf.length - off > MAX_RESPONSE_HEAD) return bad();
          partial = buf.subarray(off);
          keep = off;
          break;
        }
        const h = parseResponseHead(buf, off, e);
        if (!h) return bad();
        if (proxyMode && h.status === 407 && !started && ended === 0) {
          up.destroy();
          return ev.upstreamAuth();
        }
        started = true;
        off = e + 4;
        if (h.status < 200 && h.status !== 101) continue; // interim (100 Continue): the final head follows
        keepAlive = h.keepAlive && h.status !== 101;
        if (h.status !== 101 && bodyless(leg.pending[0], h.status)) {
          end();
        } else if (h.chunked) st = CHUNKED;
        else if (h.contentLength >= 0 && h.status !== 101) {
          left = h.contentLength;
          st = LENGTH;
          if (left === 0) end();
        } else {
          st = UNTIL_CLOSE;
          keepAlive = false;
        }
      } else if (st === LENGTH) {
        const take = Math.min(left, buf.length - off);
        off += take;
        left -= take;
        if (left === 0) end();
      } else if (st === CHUNKED) {
        const r = scanner.scan(buf, off);
        if (r === MALFORMED) return bad();
        if (r === NEED_MORE) off = buf.length;
        else {
          off = r;
          end();
        }
      } else off = buf.length;
    }
    if (keep > 0 && !client.write(keep === buf.length ? buf : buf.subarray(0, keep))) up.pause();
    if (ended > 0) ev.responses();

    function end(): void {
      leg.pending.shift();
      ended++;
      st = HEAD;
      started = false;
      if (!keepAlive) leg.dead = true;
    }
  });

  function bad(): void {
    up.destroy();
    ev.aborted();
  }

  up.once('close', () => {
    leg.dead = true;
    if (retired || client.destroyed) return;
    if (st === UNTIL_CLOSE && leg.pending.length > 0) {
      leg.pending.shift();
      return ev.closeEnded();
    }
    if (leg.pending.length === 0) return ev.idleClosed();
    if (started) return ev.aborted();
    const who = `${proxyMode ? 'upstream' : 'target'} ${label}`;
    // Our idle timeout closed it: the next hop accepted but never answered.
    if (timedOut)
      return ev.failed(
        proxyMode ? 'PC_ERR_UPSTREAM_TIMEOUT' : 'PC_ERR_TARGET_TIMEOUT',
        `${who} did not answer in time`,
      );
    const code: ErrorCode = lastError
      ? fromErrno(lastError, proxyMode)
      : proxyMode
        ? 'PC_ERR_UPSTREAM_DOWN'
        : 'PC_ERR_TARGET_UNREACHABLE';
    ev.failed(code, `${who} closed without answering`);
  });

  return leg;
}
