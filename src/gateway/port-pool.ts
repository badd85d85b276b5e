// One net.Server per bound port. sync() binds what is new and closes what
// went away, without touching the others or their connections. A listener
// that fails (EADDRINUSE, EACCES) is retried with backoff and reported as
// failed in status() until it binds.
import net from 'node:net';
import type { Logger } from 'pino';

export interface PortState {
  state: 'listening' | 'failed';
  error?: string;
}

interface Entry {
  port: number;
  server: net.Server | null;
  state: 'binding' | 'listening' | 'failed';
  error?: string;
  attempts: number;
  retry: NodeJS.Timeout | null;
  removed: boolean;
}

export interface PortPool {
  /** Binds exactly `ports`; resolves when every new port has bound or failed once. */
  sync(ports: Set<number>): Promise<void>;
  status(): Map<number, PortState>;
  /** Stops accepting on every port (connections stay). */
  close(): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;
const REUSE_PORT = ['linux', 'freebsd', 'sunos', 'aix'].includes(process.platform);

export function createPortPool(opts: {
  host: string;
  log: Logger;
  onConnection: (socket: net.Socket, port: number) => void;
  retryBaseMs?: number;
}): PortPool {
  const entries = new Map<number, Entry>();
  const base = opts.retryBaseMs ?? 1000;
  let closed = false;

  function bind(e: Entry): Promise<void> {
    return new Promise((resolve) => {
      const server = net.createServer({ noDelay: true }, (s) => opts.onConnection(s, e.port));
      e.server = server;
      e.state = 'binding';
      server.once('listening', () => {
        e.state = 'listening';
        e.error = undefined;
        if (e.attempts > 0) opts.log.info({ port: e.port }, 'port bound after retry');
        e.attempts = 0;
        if (e.removed || closed) server.close();
        resolve();
      });
      server.once('error', (err: NodeJS.ErrnoException) => {
        e.server = null;
        e.state = 'failed';
        e.error = err.code ?? err.message;
        e.attempts++;
        const wait = Math.min(MAX_BACKOFF_MS, base * 2 ** Math.min(e.attempts - 1, 5));
        opts.log.warn({ port: e.port, error: e.error, retryInMs: wait }, 'port failed to bind');
        if (!e.removed && !closed) {
          e.retry = setTimeout(() => {
            e.retry = null;
            if (!e.removed && !closed) void bind(e);
          }, wait);
          e.retry.unref();
        }
        resolve();
      });
      // SO_REUSEPORT (Linux, BSD): several gateway processes of one deployment
      // serve the same ports and the kernel spreads new connections between
      // them. A port held by another program without the option still fails
      // with EADDRINUSE. Node raises an error where libuv lacks it (macOS, Windows).
      server.listen({ port: e.port, host: opts.host, backlog: 1024, reusePort: REUSE_PORT });
    });
  }

  function unbind(e: Entry): Promise<void> {
    e.removed = true;
    if (e.retry) clearTimeout(e.retry);
    e.retry = null;
    const s = e.server;
    e.server = null;
    if (!s?.listening) return Promise.resolve();
    return new Promise((resolve) => {
      s.close(() => resolve());
      // close() waits for connections; we only need the listener gone.
      setImmediate(resolve);
    });
  }

  return {
    async sync(ports) {
      if (closed) return;
      const work: Promise<void>[] = [];
      for (const [port, e] of entries) {
        if (!ports.has(port)) {
          entries.delete(port);
          work.push(unbind(e));
        }
      }
      for (const port of ports) {
        if (entries.has(port)) continue;
        const e: Entry = { port, server: null, state: 'binding', attempts: 0, retry: null, removed: false };
        entries.set(port, e);
        work.push(bind(e));
      }
      await Promise.all(work);
    },
    status() {
      const out = new Map<number, PortState>();
      for (const [port, e] of entries) {
        if (e.state === 'listening') out.set(port, { state: 'listening' });
        else out.set(port, { state: 'failed', error: e.error ?? 'binding' });
      }
      return out;
    },
    async close() {
      closed = true;
      await Promise.all([...entries.values()].map(unbind));
      entries.clear();
    },
  };
}
