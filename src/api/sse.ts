// Server-sent events (text/event-stream) for the console's live figures.
// The reply is hijacked (Fastify no longer touches it); every open stream is
// ended in preClose so app.close() never waits on a watcher. A comment line
// every 15 s keeps proxies and load balancers from timing the stream out.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const HEARTBEAT_MS = 15_000;

export interface SseStream {
  send(event: string, data: unknown): void;
  close(): void;
  /** runs once when the stream ends, by either side */
  onClose(fn: () => void): void;
  readonly closed: boolean;
}

export function createSseHub(app: FastifyInstance) {
  const open = new Set<SseStream>();
  app.addHook('preClose', async () => {
    for (const s of open) s.close();
  });

  return function openStream(_request: FastifyRequest, reply: FastifyReply): SseStream {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // nginx: pass events through at once instead of buffering them
      'x-accel-buffering': 'no',
    });
    res.write(': portcullis live\n\n');
    const closers: (() => void)[] = [];
    let closed = false;
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const end = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      open.delete(stream);
      for (const fn of closers) fn();
      res.end();
    };
    const stream: SseStream = {
      send(event, data) {
        if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      close: end,
      onClose(fn) {
        if (closed) fn();
        else closers.push(fn);
      },
      get closed() {
        return closed;
      },
    };
    open.add(stream);
    // The response's close, not the request's: a request without a body closes as soon as it is read.
    res.on('close', end);
    res.on('error', end);
    return stream;
  };
}

export type OpenStream = ReturnType<typeof createSseHub>;

/** OpenAPI: the answer of an SSE route. */
export function sseAnswer(description: string) {
  return { type: 'string', description: `text/event-stream. ${description}` } as const;
}
