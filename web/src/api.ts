// The console's only way to the API: JSON over fetch with a bearer token,
// errors turned into ApiError carrying the catalog code, message and bad
// fields, and server-sent events read from a fetch stream (EventSource cannot
// send an Authorization header, and tokens do not belong in URLs).

export interface FieldProblem {
  field: string;
  problem: string;
}

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fields: FieldProblem[];
  readonly details: unknown;
  constructor(status: number, code: string, message: string, fields: FieldProblem[] = [], details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.details = details;
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; fields?: FieldProblem[]; details?: unknown };
}

async function toError(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const e = (JSON.parse(text) as ErrorBody).error;
    if (e?.code) return new ApiError(res.status, e.code, e.message ?? e.code, e.fields ?? [], e.details);
  } catch {}
  return new ApiError(res.status, `HTTP_${res.status}`, text.slice(0, 200) || res.statusText);
}

export interface RequestOptions {
  body?: unknown;
  text?: string;
  signal?: AbortSignal;
  accept?: 'json' | 'text';
}

export type Call = <T = unknown>(method: string, path: string, opts?: RequestOptions) => Promise<T>;

/** A request function bound to one bearer token (null: no credentials). */
export function client(token: string | null): Call {
  return async function call<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.text !== undefined) {
      headers['content-type'] = 'text/plain';
      body = opts.text;
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body, signal: opts.signal });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError(0, 'NETWORK', `cannot reach the API: ${(err as Error).message}`);
    }
    if (!res.ok) throw await toError(res);
    if (res.status === 204 || res.status === 202) {
      const t = await res.text();
      return (t ? JSON.parse(t) : undefined) as T;
    }
    if (opts.accept === 'text') return (await res.text()) as T;
    return (await res.json()) as T;
  };
}

/** Upload text with progress (fetch cannot report upload progress; XHR can). */
export function uploadText<T>(
  token: string,
  path: string,
  text: string,
  onProgress: (sent: number, total: number) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', 'text/plain');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.total);
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'cannot reach the API'));
    xhr.onload = () => {
      let json: unknown;
      try {
        json = JSON.parse(xhr.responseText);
      } catch {}
      if (xhr.status >= 200 && xhr.status < 300) return resolve(json as T);
      const e = (json as ErrorBody | undefined)?.error;
      reject(
        new ApiError(
          xhr.status,
          e?.code ?? `HTTP_${xhr.status}`,
          e?.message ?? xhr.statusText,
          e?.fields ?? [],
          e?.details,
        ),
      );
    };
    xhr.send(text);
  });
}

export interface StreamHandlers {
  onEvent(event: string, data: unknown): void;
  /** connection state for the UI: live, or the error that broke it (it retries by itself) */
  onState(state: 'live' | ApiError): void;
}

/**
 * Reads server-sent events from `path` until stopped; reconnects 3 s after a
 * broken stream, but not after 401/403 (the credentials are gone).
 */
export function stream(path: string, token: string, h: StreamHandlers): () => void {
  const ctl = new AbortController();
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const run = async () => {
    try {
      const res = await fetch(path, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal: ctl.signal,
      });
      if (!res.ok) {
        const err = await toError(res);
        h.onState(err);
        if (res.status === 401 || res.status === 403) return;
        throw err;
      }
      h.onState('live');
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) h.onEvent(event, JSON.parse(data));
        }
      }
      if (!stopped) throw new ApiError(0, 'NETWORK', 'live stream closed; reconnecting');
    } catch (err) {
      if (stopped) return;
      h.onState(err instanceof ApiError ? err : new ApiError(0, 'NETWORK', (err as Error).message));
      retry = setTimeout(run, 3000);
    }
  };
  run();
  return () => {
    stopped = true;
    clearTimeout(retry);
    ctl.abort();
  };
}
