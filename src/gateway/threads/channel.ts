// Calls between the main thread and a gateway worker thread, over the
// worker's message port. Both ends call and answer. Messages queued in one
// turn of the event loop go as one postMessage (setImmediate), so a worker
// admitting many clients at once wakes the main thread once, not per client.
//
// A batch is a flat array of frames of four slots: [kind, id, method or
// value, args]. CALL expects an OK or ERR frame with the same id; SEND does not.

const CALL = 0;
const SEND = 1;
const OK = 2;
const ERR = 3;

export interface Port {
  postMessage(value: unknown): void;
  on(event: 'message', listener: (value: unknown) => void): unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: handlers take what the caller sent; each end types its own wrapper
export type Handlers = Record<string, (...args: any[]) => unknown>;

export interface Channel {
  call<T>(method: string, args: unknown[]): Promise<T>;
  /** One-way: no answer, errors go to the other end's log. */
  send(method: string, args: unknown[]): void;
  /** Rejects every call still waiting, and every later one (the other end is gone). */
  close(reason: string): void;
}

export class ChannelError extends Error {
  code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'ChannelError';
    this.code = code;
  }
}

export function createChannel(
  port: Port,
  handlers: Handlers,
  onError: (err: unknown, method: string) => void,
): Channel {
  let out: unknown[] = [];
  let scheduled = false;
  let seq = 0;
  let closed: string | null = null;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  function flush(): void {
    scheduled = false;
    if (out.length === 0 || closed !== null) return;
    const batch = out;
    out = [];
    port.postMessage(batch);
  }

  function push(kind: number, id: number, a: unknown, b: unknown): void {
    out.push(kind, id, a, b);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  }

  function answer(kind: number, id: number, method: string, args: unknown[]): void {
    const h = handlers[method];
    let result: unknown;
    try {
      if (h === undefined) throw new ChannelError(`no such method: ${method}`);
      result = h(...args);
    } catch (err) {
      if (kind === CALL) push(ERR, id, toWire(err), null);
      else onError(err, method);
      return;
    }
    if (result instanceof Promise)
      result.then(
        (v) => {
          if (kind === CALL) push(OK, id, v, null);
        },
        (err: unknown) => {
          if (kind === CALL) push(ERR, id, toWire(err), null);
          else onError(err, method);
        },
      );
    else if (kind === CALL) push(OK, id, result, null);
  }

  port.on('message', (value) => {
    const batch = value as unknown[];
    for (let i = 0; i < batch.length; i += 4) {
      const kind = batch[i] as number;
      const id = batch[i + 1] as number;
      if (kind === CALL || kind === SEND) {
        answer(kind, id, batch[i + 2] as string, batch[i + 3] as unknown[]);
        continue;
      }
      const w = waiting.get(id);
      if (w === undefined) continue;
      waiting.delete(id);
      if (kind === OK) w.resolve(batch[i + 2]);
      else {
        const e = batch[i + 2] as { message: string; code?: string };
        w.reject(new ChannelError(e.message, e.code));
      }
    }
  });

  return {
    call<T>(method: string, args: unknown[]): Promise<T> {
      if (closed !== null) return Promise.reject(new ChannelError(closed, 'PC_ERR_INTERNAL'));
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        push(CALL, id, method, args);
      });
    },
    send(method, args) {
      if (closed === null) push(SEND, 0, method, args);
    },
    close(reason) {
      if (closed !== null) return;
      closed = reason;
      out = [];
      for (const w of waiting.values()) w.reject(new ChannelError(reason, 'PC_ERR_INTERNAL'));
      waiting.clear();
    },
  };
}

function toWire(err: unknown): { message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { message: err.message, code: typeof code === 'string' ? code : undefined };
  }
  return { message: String(err) };
}
