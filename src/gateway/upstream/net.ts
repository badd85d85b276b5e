// Socket helpers shared by the dialers: a TCP connect with a deadline that
// fails with a catalog code, and a reader for small handshake replies that
// hands back any bytes read past the reply (socket.unshift) so the relay
// sees them first.
import net from 'node:net';
import { type ErrorCode, fromErrno, PcError } from '../../errors.ts';

/** Called with every socket a dial opens, so an owner can destroy it if the client leaves mid-dial. */
export type Track = (s: net.Socket) => void;

export function connectTcp(
  host: string,
  port: number,
  timeoutMs: number,
  upstream: boolean,
  track: Track,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true });
    track(s);
    const done = (err: PcError | null): void => {
      clearTimeout(timer);
      s.removeListener('error', onError);
      s.removeListener('connect', onConnect);
      if (err) {
        s.destroy();
        reject(err);
      } else resolve(s);
    };
    const onError = (e: NodeJS.ErrnoException) =>
      done(
        new PcError(
          fromErrno(e, upstream),
          `${upstream ? 'upstream' : 'target'} ${host}:${port}: ${e.code ?? e.message}`,
        ),
      );
    const onConnect = () => done(null);
    const timer = setTimeout(
      () =>
        done(
          new PcError(
            upstream ? 'PC_ERR_UPSTREAM_TIMEOUT' : 'PC_ERR_TARGET_TIMEOUT',
            `connect to ${host}:${port} timed out`,
          ),
        ),
      timeoutMs,
    );
    s.once('error', onError);
    s.once('connect', onConnect);
  });
}

/** parse: the value and the bytes it used, null for "need more"; throw PcError on garbage. */
export type ReplyParser<T> = (buf: Buffer) => { value: T; used: number } | null;

/**
 * Reads one reply from a freshly connected socket. On success the socket is
 * paused with no listeners of ours left and surplus bytes unshifted.
 */
export function readReply<T>(
  s: net.Socket,
  parse: ReplyParser<T>,
  timeoutMs: number,
  failCode: ErrorCode,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf: Buffer | null = null;
    const cleanup = (): void => {
      clearTimeout(timer);
      s.removeListener('data', onData);
      s.removeListener('error', onError);
      s.removeListener('close', onClose);
    };
    const fail = (e: unknown): void => {
      cleanup();
      s.destroy();
      reject(e instanceof PcError ? e : new PcError('PC_ERR_UPSTREAM_PROTOCOL', String(e)));
    };
    const onData = (chunk: Buffer): void => {
      buf = buf ? Buffer.concat([buf, chunk]) : chunk;
      let r: { value: T; used: number } | null;
      try {
        r = parse(buf);
      } catch (e) {
        fail(e);
        return;
      }
      if (!r) {
        if (buf.length > 64 * 1024) fail(new PcError('PC_ERR_UPSTREAM_PROTOCOL', `${what}: reply too large`));
        return;
      }
      cleanup();
      s.pause();
      if (r.used < buf.length) s.unshift(buf.subarray(r.used));
      resolve(r.value);
    };
    const onError = (e: NodeJS.ErrnoException): void =>
      fail(new PcError(failCode, `${what}: ${e.code ?? e.message}`));
    const onClose = (): void => fail(new PcError(failCode, `${what}: closed the connection`));
    const timer = setTimeout(
      () => fail(new PcError('PC_ERR_UPSTREAM_TIMEOUT', `${what}: no reply in time`)),
      timeoutMs,
    );
    s.on('data', onData);
    s.once('error', onError);
    s.once('close', onClose);
    // A previous readReply left the socket paused; listening alone would not resume it.
    s.resume();
  });
}
