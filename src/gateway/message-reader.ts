// Reads a handshake as a sequence of messages from one socket: a client's
// (SOCKS5: greeting, sub-negotiation, request) or an upstream's replies to
// ours (upstream/socks5.ts). One 'data' listener and one deadline for the
// whole handshake, not a listener set and a timer per message, so a peer
// that answers each message just in time cannot stretch the handshake. Bytes
// sent ahead (a pipelined request) wait in the buffer for the next message.
// On any failure the socket is destroyed and the pending read rejects with a
// PcError.
import type net from 'node:net';
import { type ErrorCode, PcError } from '../errors.ts';
import { isRecycled, type ReplyParser } from './upstream/net.ts';

const MAX_PENDING = 64 * 1024;

export interface MessageReader {
  /** The next message, parsed from the bytes read so far and those to come. */
  next<T>(parse: ReplyParser<T>): Promise<T>;
  /**
   * Stops reading: deadline cleared, listeners removed, the socket paused with
   * any unread bytes handed back (unshift) for whoever reads next. Idempotent.
   */
  finish(): void;
}

interface Want {
  parse: ReplyParser<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export function messageReader(
  s: net.Socket,
  deadlineMs: number,
  failCode: ErrorCode,
  what: string,
  /** bytes already read from the socket (they come first) */
  first: Buffer | null = null,
  /** the code of a missed deadline (default PC_ERR_REQUEST_TIMEOUT: a client's) */
  timeoutCode: ErrorCode = 'PC_ERR_REQUEST_TIMEOUT',
): MessageReader {
  let buf: Buffer | null = first;
  // A recycled socket's chunk is overwritten by its next read: keep a copy.
  const recycled = isRecycled(s);
  let want: Want | null = null;
  let failed: PcError | null = null;
  let finished = false;

  const onData = (chunk: Buffer): void => {
    buf = buf !== null ? Buffer.concat([buf, chunk]) : recycled ? Buffer.from(chunk) : chunk;
    if (want !== null) parseNext();
    else if (buf.length > MAX_PENDING) fail(new PcError(failCode, `${what}: too many bytes ahead`));
  };
  const onError = (e: NodeJS.ErrnoException): void =>
    fail(new PcError(failCode, `${what}: ${e.code ?? e.message}`));
  const onClose = (): void => fail(new PcError(failCode, `${what}: closed the connection`));
  const timer = setTimeout(
    () => fail(new PcError(timeoutCode, `${what}: handshake not finished in time`)),
    deadlineMs,
  );

  function detach(): void {
    finished = true;
    clearTimeout(timer);
    s.removeListener('data', onData);
    s.removeListener('error', onError);
    s.removeListener('close', onClose);
  }

  function fail(e: unknown): void {
    if (finished) return;
    detach();
    failed = e instanceof PcError ? e : new PcError('PC_ERR_BAD_REQUEST', `${what}: ${String(e)}`);
    s.destroy();
    const w = want;
    want = null;
    w?.reject(failed);
  }

  function parseNext(): void {
    if (buf === null || want === null) return;
    let r: { value: unknown; used: number } | null;
    try {
      r = want.parse(buf);
    } catch (e) {
      fail(e);
      return;
    }
    if (r === null) {
      if (buf.length > MAX_PENDING) fail(new PcError(failCode, `${what}: message too large`));
      return;
    }
    buf = r.used < buf.length ? buf.subarray(r.used) : null;
    const w = want;
    want = null;
    w.resolve(r.value);
  }

  s.on('data', onData);
  s.once('error', onError);
  s.once('close', onClose);
  s.resume();

  return {
    next<T>(parse: ReplyParser<T>): Promise<T> {
      if (failed !== null) return Promise.reject(failed);
      if (finished) return Promise.reject(new PcError(failCode, `${what}: reader finished`));
      return new Promise<T>((resolve, reject) => {
        want = { parse, resolve: resolve as (v: unknown) => void, reject };
        parseNext();
      });
    },
    finish(): void {
      if (finished) return;
      detach();
      s.pause();
      if (buf !== null && !s.destroyed) s.unshift(buf);
      buf = null;
    },
  };
}
