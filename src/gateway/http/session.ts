// One HTTP client connection: reads request heads (parse.ts), authenticates
// and admits on the first request (the connection then holds one thread
// until it closes), and dispatches each request: CONNECT becomes a tunnel
// (connect.ts); an absolute-URI request is forwarded on a leg (forward.ts).
// On keep-alive, a request for another host waits until the responses in
// flight have ended, then gets a new leg; request bodies are relayed with
// their own framing.
import type net from 'node:net';
import type { ErrorCode } from '../../errors.ts';
import { isPcError } from '../../errors.ts';
import { admit, authenticate, type Credentials, logRefusal } from '../admit.ts';
import { finish, type GatewayContext } from '../context.ts';
import { dialTunnel } from '../dial.ts';
import type { Conn } from '../registry.ts';
import { connectTcp } from '../upstream/net.ts';
import { authority } from '../upstream/route.ts';
import { ChunkedScanner, MALFORMED, NEED_MORE } from './chunked.ts';
import { connectTarget, handleConnect } from './connect.ts';
import { attachLeg, type Leg, requestHead } from './forward.ts';
import { parseAbsoluteUri, parseBasic, parseRequestHead, type RequestHead } from './parse.ts';
import { replyFor } from './reply.ts';

const NO_BODY = 0;
const BODY_LENGTH = 1;
const BODY_CHUNKED = 2;

function credentials(h: RequestHead): Credentials | null | 'bad' {
  if (h.proxyAuthorization === null) return null;
  const pair = parseBasic(h.proxyAuthorization);
  if (!pair) return 'bad';
  return { key: h.proxyAuthorization, username: pair[0], password: pair[1] };
}

/** Bytes a client may send ahead while a request is admitted or dialled before we stop reading it. */
const AHEAD_LIMIT = 64 * 1024;

/** Serves HTTP on a client socket; `first` is the chunk the protocol sniffer read. */
export function serveHttp(g: GatewayContext, client: net.Socket, port: number, first: Buffer): void {
  let pend: Buffer | null = first;
  let busy = false;
  /** inside wait(): an await on admission or a dial */
  let waiting = false;
  /** paused because too many bytes came ahead during a wait */
  let heldBack = false;
  let done = false;
  let closing = false;
  let waitIdle = false;
  let conn: Conn | null = null;
  let connAuth: string | null = null;
  let leg: Leg | null = null;
  let body = NO_BODY;
  let bodyLeft = 0;
  /** deadline of a request head begun but not complete (slowloris: the socket timeout restarts with every byte) */
  let headDeadline: NodeJS.Timeout | null = null;
  const scanner = new ChunkedScanner();

  const onData = (chunk: Buffer): void => {
    pend = pend === null ? chunk : Buffer.concat([pend, chunk]);
    if (waiting) {
      // Kept for after the wait; past the limit, TCP holds the rest back.
      if (!heldBack && pend.length > AHEAD_LIMIT) {
        heldBack = true;
        client.pause();
      }
      return;
    }
    kick();
  };
  client.on('data', onData);
  client.on('timeout', () => {
    if (done) return;
    // A whole request is being admitted or dialled: the connect timeout guards that.
    if (busy) return;
    if (leg && leg.pending.length > 0) return; // the leg's own idle timeout guards a slow origin
    if (pend === null) {
      // Idle between requests (after an answer, or after a 407 the client has
      // not yet answered): close quietly. A 408 here could cross the client's
      // next request on the wire and be read as its answer.
      if (conn) return g.registry.close(conn);
      done = true;
      client.destroy();
      return;
    }
    refuse('PC_ERR_REQUEST_TIMEOUT'); // a request head begun but not finished
  });
  client.on('drain', () => leg?.socket.resume());
  client.once('close', () => {
    if (headDeadline !== null) clearTimeout(headDeadline);
  });
  client.resume();
  kick();

  function kick(): void {
    if (busy || done) return;
    busy = true;
    loop().then(
      () => {
        busy = false;
      },
      (e) => {
        busy = false;
        g.log.error({ err: e }, 'http session failed unexpectedly');
        client.destroy();
      },
    );
  }

  function consume(n: number): void {
    pend = pend !== null && pend.length > n ? pend.subarray(n) : null;
  }

  async function loop(): Promise<void> {
    while (pend !== null && !done && !waitIdle) {
      if (body !== NO_BODY) {
        relayBody(pend);
        continue;
      }
      if (closing) {
        pend = null; // nothing is read after a request that closes the connection
        return;
      }
      const h = parseRequestHead(pend);
      if (h === null) {
        // A head must be complete within the header timeout of its first bytes, however they trickle.
        headDeadline ??= setTimeout(() => {
          headDeadline = null;
          if (!done && !busy) refuse('PC_ERR_REQUEST_TIMEOUT');
        }, g.headerTimeoutMs);
        return;
      }
      if (headDeadline !== null) {
        clearTimeout(headDeadline);
        headDeadline = null;
      }
      if (typeof h === 'string') return refuse(h);
      if (!(await request(h))) return;
    }
  }

  function relayBody(buf: Buffer): void {
    let n: number;
    if (body === BODY_LENGTH) {
      n = Math.min(bodyLeft, buf.length);
      bodyLeft -= n;
      if (bodyLeft === 0) body = NO_BODY;
    } else {
      const r = scanner.scan(buf, 0);
      if (r === MALFORMED) {
        client.destroy();
        done = true;
        return;
      }
      n = r === NEED_MORE ? buf.length : r;
      if (r !== NEED_MORE) body = NO_BODY;
    }
    const sock = leg!.socket;
    if (!sock.write(n === buf.length ? buf : buf.subarray(0, n))) client.pause();
    consume(n);
  }

  // Awaits admission or a dial. The client is not paused for it (a pause and
  // a resume per await showed in CONNECT profiles): what it sends meanwhile
  // waits in `pend`, and only past AHEAD_LIMIT is the socket paused.
  async function wait<T>(p: Promise<T>): Promise<T> {
    waiting = true;
    try {
      return await p;
    } finally {
      waiting = false;
      if (heldBack) {
        heldBack = false;
        if (!done) client.resume();
      }
    }
  }

  /** Handles one request head; false stops reading (refused, handed over, or waiting). */
  async function request(h: RequestHead): Promise<boolean> {
    const isConnect = h.method === 'CONNECT';
    const ct = isConnect ? connectTarget(h) : null;
    const uri = isConnect ? null : parseAbsoluteUri(h.target);
    if (isConnect ? !ct : !uri) {
      refuse('PC_ERR_BAD_REQUEST', isConnect ? 'CONNECT needs host:port' : 'absolute http:// URI expected');
      return false;
    }
    const targetText = isConnect ? h.target : authority(uri!.host, uri!.port);
    // The connection's admission pays the requests/s token of its first request.
    let admitted = false;
    if (conn === null || (h.proxyAuthorization !== null && h.proxyAuthorization !== connAuth)) {
      const creds = credentials(h);
      const policy = creds === 'bad' ? 'PC_ERR_BAD_CREDENTIALS' : await wait(authenticate(g, client, creds));
      if (typeof policy === 'string') {
        refuse(policy, undefined, targetText);
        return false;
      }
      if (conn === null) {
        const c = await wait(admit(g, policy, client, port, targetText));
        if (typeof c === 'string') {
          refuse(c, undefined, targetText, policy.username);
          return false;
        }
        conn = c;
        admitted = true;
        client.setTimeout(g.idleTimeoutMs);
      } else if (policy.customerId !== conn.customerId) {
        refuse('PC_ERR_BAD_CREDENTIALS', 'another customer on the same connection', targetText);
        return false;
      }
      connAuth = h.proxyAuthorization;
    }
    if (done || conn.closed) return false;
    if (!admitted) {
      // Not wait(): the answer comes within a tick (memory) or one round trip
      // (Redis); pausing and resuming the client per request costs more.
      const ok = g.limits.request(conn);
      if (ok !== true && !(await ok)) {
        refuse('PC_ERR_RATE_LIMITED', undefined, targetText);
        return false;
      }
      if (done || conn.closed) return false;
    }

    if (isConnect) {
      if (leg && leg.pending.length > 0) return waitForIdle();
      leg?.retire();
      leg = null;
      consume(h.length);
      done = true;
      client.removeListener('data', onData);
      client.removeAllListeners('timeout');
      client.pause();
      const rest = pend;
      pend = null;
      handleConnect(g, conn, client, ct!, rest);
      return false;
    }

    const u = uri!;
    const route = g.upstreams.pick(port, g.config.gateway.failover);
    if (typeof route === 'string') {
      refuse(route, undefined, targetText);
      return false;
    }
    const proxyMode = route.target.protocol === 'http';
    if (proxyMode && !g.guard.allowedText(u.host, u.port)) {
      refuse('PC_ERR_TARGET_FORBIDDEN', undefined, targetText);
      return false;
    }
    const key = proxyMode ? route.label : targetText;
    if (leg && (leg.dead || leg.key !== key)) {
      if (leg.pending.length > 0) return waitForIdle();
      leg.retire();
      leg = null;
    }
    if (leg === null) {
      const c = conn;
      const track = (s: net.Socket): void => {
        c.peers.add(s);
        s.on('error', () => {});
        if (c.closed) s.destroy();
      };
      let sock: net.Socket;
      try {
        sock = await wait(
          proxyMode
            ? connectTcp(route.target.host, route.target.port, g.connectTimeoutMs, true, track)
            : dialTunnel(route, u.host, u.port, {
                connectTimeoutMs: g.connectTimeoutMs,
                guard: g.guard,
                track,
              }),
        );
      } catch (e) {
        if (!isPcError(e)) throw e;
        refuse(e.code, e.message, targetText);
        return false;
      }
      if (done || c.closed) {
        sock.destroy();
        return false;
      }
      sock.resume();
      leg = attachLeg(client, sock, key, route.label, proxyMode, g.idleTimeoutMs, legEvents(c));
      g.limits.pair(c, client, sock);
      c.upstream = route.label;
    }
    conn.target = targetText;
    leg.socket.write(requestHead(h, u, proxyMode, route.basic), 'latin1');
    leg.pending.push(h.method);
    conn.requests++;
    consume(h.length);
    if (h.chunked) body = BODY_CHUNKED;
    else if (h.contentLength > 0) {
      body = BODY_LENGTH;
      bodyLeft = h.contentLength;
    }
    if (!h.keepAlive) closing = true;
    return true;
  }

  function waitForIdle(): boolean {
    waitIdle = true;
    client.pause();
    return false;
  }

  function legEvents(c: Conn) {
    const dropLeg = (): void => {
      if (leg) c.peers.delete(leg.socket);
      leg = null;
    };
    return {
      responses() {
        if (!leg || leg.pending.length > 0) return;
        if (closing) {
          done = true;
          return finish(client, null);
        }
        if (leg.dead) {
          leg.retire();
          dropLeg();
        }
        if (waitIdle) {
          waitIdle = false;
          client.resume();
          kick();
        }
      },
      upstreamAuth() {
        const label = leg?.label;
        dropLeg();
        refuse('PC_ERR_UPSTREAM_AUTH', `upstream ${label} answered 407: refused our credentials`);
      },
      failed(code: ErrorCode, detail: string) {
        dropLeg();
        refuse(code, detail);
      },
      aborted() {
        done = true;
        client.destroy();
      },
      closeEnded() {
        dropLeg();
        done = true;
        finish(client, null);
      },
      idleClosed() {
        dropLeg();
        if (waitIdle) {
          waitIdle = false;
          client.resume();
          kick();
        }
      },
    };
  }

  function refuse(code: ErrorCode, detail?: string, target?: string, username?: string): void {
    if (done) return;
    done = true;
    logRefusal(g, code, client, port, {
      username: username ?? conn?.policy.username,
      target,
      detail,
      protocol: 'http',
    });
    // A refusal cannot be put in order behind responses still streaming: abort instead.
    if (leg && leg.pending.length > 0) {
      leg.retire();
      client.destroy();
      return;
    }
    leg?.retire();
    const reply = replyFor(code, detail);
    finish(client, reply);
  }
}
