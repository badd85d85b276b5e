// A small server-sent-events client for tests: real HTTP to a listening app,
// events parsed as they arrive, `next()` waits for the next one (bounded).
import http from 'node:http';

export interface SseEvent {
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON events
  data: any;
}

export interface SseClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** the next event (named `event` when given, skipping others), or an error after timeoutMs */
  next(event?: string, timeoutMs?: number): Promise<SseEvent>;
  /** resolves when the server ends the stream */
  ended: Promise<void>;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const queue: SseEvent[] = [];
      let waiter: (() => void) | undefined;
      let buf = '';
      let endedResolve: () => void = () => {};
      const ended = new Promise<void>((r) => {
        endedResolve = r;
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0) continue;
          const text = data.join('\n');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {}
          queue.push({ event, data: parsed });
          waiter?.();
        }
      });
      const done = () => {
        endedResolve();
        waiter?.();
      };
      res.on('end', done);
      res.on('close', done);
      let finished = false;
      ended.then(() => {
        finished = true;
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        ended,
        async next(name, timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const i = queue.findIndex((e) => name === undefined || e.event === name);
            if (i >= 0) return queue.splice(i, 1)[0];
            if (finished) throw new Error(`stream ended before event ${name ?? '(any)'}`);
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no event ${name ?? '(any)'} within ${timeoutMs} ms`);
            await new Promise<void>((r) => {
              const t = setTimeout(r, left);
              waiter = () => {
                clearTimeout(t);
                waiter = undefined;
                r();
              };
            });
          }
        },
        close() {
          req.destroy();
        },
      });
    });
    req.on('error', reject);
  });
}
