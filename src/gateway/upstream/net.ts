// Socket helpers shared by the dialers: a TCP connect with a deadline that
// fails with a catalog code, and a reader for small handshake replies that
// hands back any bytes read past the reply (socket.unshift) so the relay
// sees them first.
//
// Recycled reads (tunnels): by default Node allocates a fresh 64 KiB buffer
// for every read, and at hundreds of MB/s that churn (page faults on fresh
// memory, major GCs over external memory) costs more than the copy itself.
// A tunnel's upstream socket reads with net.connect's `onread` instead, and
// emits each chunk as a 'data' event, so the relay, the throttle and the
// quota guard see the usual events:
// - a quiet socket reads into one scratch buffer shared by all of them and
//   emits a copy (no memory held per idle tunnel, the same work as Node's
//   default for small reads);
// - once a read fills the scratch buffer the socket is streaming: it gets a
//   64 KiB buffer of its own and emits views of it, with no copy and no
//   allocation. A view is only valid during the event: a consumer that keeps
//   it past the event (a write the kernel did not take at once) calls
//   retain(), and the next read goes to a fresh buffer. A short read hands the
//   buffer back to the garbage collector and returns to the scratch buffer.
import net from 'node:net';
import { type ErrorCode, fromErrno, PcError } from '../../errors.ts';

/** Called with every socket a dial opens, so an owner can destroy it if the client leaves mid-dial. */
export type Track = (s: net.Socket) => void;

const SCRATCH_SIZE = 16 * 1024;
const OWN_SIZE = 64 * 1024;
const scratch = Buffer.allocUnsafeSlow(SCRATCH_SIZE);
const kRecycled = Symbol('recycled reads');

interface RecycledState {
  own: Buffer | null;
  /** the last read filled its buffer: read the next into `own` */
  streaming: boolean;
  /** `own` is still referenced by a consumer: do not read into it again */
  retained: boolean;
}

type RecycledSocket = net.Socket & { [kRecycled]?: RecycledState };

/** The chunk a recycled socket just emitted is still referenced (e.g. queued for writing). */
export function retain(s: net.Socket): void {
  const r = (s as RecycledSocket)[kRecycled];
  if (r !== undefined) r.retained = true;
}

export function isRecycled(s: net.Socket): boolean {
  return (s as RecycledSocket)[kRecycled] !== undefined;
}

function openSocket(host: string, port: number, recycle: boolean): net.Socket {
  if (!recycle) return net.connect({ host, port, noDelay: true });
  const r: RecycledState = { own: null, streaming: false, retained: false };
  const s: RecycledSocket = net.connect({
    host,
    port,
    noDelay: true,
    onread: {
      buffer: () => {
        if (!r.streaming) {
          r.own = null;
          r.retained = false;
          return scratch;
        }
        if (r.own === null || r.retained) {
          r.own = Buffer.allocUnsafeSlow(OWN_SIZE);
          r.retained = false;
        }
        return r.own;
      },
      callback: (n: number, buf: Uint8Array) => {
        if (buf === scratch) {
          r.streaming = n === SCRATCH_SIZE;
          s.emit('data', Buffer.from(scratch.subarray(0, n)));
        } else {
          r.streaming = n >= SCRATCH_SIZE;
          s.emit('data', (buf as Buffer).subarray(0, n));
        }
        return true;
      },
    },
  });
  s[kRecycled] = r;
  return s;
}

export function connectTcp(
  host: string,
  port: number,
  timeoutMs: number,
  upstream: boolean,
  track: Track,
  recycle = false,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = openSocket(host, port, recycle);
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
    const recycled = isRecycled(s);
    const onData = (chunk: Buffer): void => {
      // A recycled socket's chunk is overwritten by its next read: keep a copy.
      buf = buf ? Buffer.concat([buf, chunk]) : recycled ? Buffer.from(chunk) : chunk;
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
